/**
 * The operator's one audited way down for a component: a `rewind` run and the lowered
 * component, in one transaction, with from/to in the run's detail and a history row.
 */
import { NotARewindError } from '../errors.js'
import type { Store } from './store.js'

export interface RewindResult {
  runId: number
  from: number
  to: number
}

export function rewindComponent (store: Store, init: { volumeId: number, volume: string, destination: string, originNodeId: number, origin: string, originRunId: number }): RewindResult {
  const tx = store.db.transaction((): RewindResult => {
    const current = store.vector.get(init.volumeId, init.destination, init.originNodeId)
    if (current === undefined || current.originRunId <= init.originRunId) {
      throw new NotARewindError(init.volume, init.destination, init.origin, current?.originRunId ?? null, init.originRunId)
    }
    const run = store.runs.begin({ kind: 'rewind', volumeId: init.volumeId, destination: init.destination })
    const moved = store.vector.rewind(init.volumeId, init.destination, init.originNodeId, init.originRunId, run.id)
    if (moved === undefined) throw new NotARewindError(init.volume, init.destination, init.origin, current.originRunId, init.originRunId)
    store.runs.finish(run.id, 'success', { detail: { origin: init.origin, from: moved.from, to: moved.to } })
    return { runId: run.id, from: moved.from, to: moved.to }
  })
  return tx.immediate()
}
