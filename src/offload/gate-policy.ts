/**
 * Loads what the gate needs for one volume, once per invocation: its required targets with
 * their live components, pulled push freshness, last successful push and any verify failure
 * since, plus one `now`. `withoutSource` leaves out everything a peer asserted (the revocation
 * impact preview).
 */
import type { Config, VolumeConfig } from '../config/types.js'
import { targetKey } from '../naming.js'
import type { Store } from '../store/store.js'
import type { GateComponent, GatePolicy, GateTarget } from './gate.js'

export function loadGatePolicy (store: Store, config: Config, volume: VolumeConfig, nowNs: number, options: { withoutSource?: number } = {}): GatePolicy {
  const row = store.volumes.get(volume.name)
  const vector = row === undefined ? [] : store.vector.list(row.id)
  const freshness = row === undefined ? [] : store.vector.listFreshness(row.id)
  const targets: GateTarget[] = volume.offloadRequires.map(name => {
    const key = targetKey(store, config, name)
    const peer = store.nodes.livePeerByName(name)
    const components = new Map<number, GateComponent>()
    for (const c of vector) {
      if (c.destination !== key) continue
      if (options.withoutSource !== undefined && c.sourceNodeId === options.withoutSource) continue
      components.set(c.originNodeId, { originRunId: c.originRunId, verifyMethod: c.verifyMethod, verifiedAtNs: c.verifiedAtNs, sourceNodeId: c.sourceNodeId })
    }
    const fresh = new Map<number, number>()
    for (const f of freshness) {
      if (f.destination !== key || f.sourceNodeId === null) continue
      if (options.withoutSource !== undefined && f.sourceNodeId === options.withoutSource) continue
      fresh.set(f.originNodeId, Math.max(fresh.get(f.originNodeId) ?? 0, f.originRunId))
    }
    const lastPush = row === undefined ? undefined : store.runs.lastSuccess('push', row.id, key)
    const lastVerify = row === undefined ? undefined : store.runs.list({ volumeId: row.id, kind: 'verify', limit: 50 }).find(r => r.destination === key && r.status !== 'running')
    const failedVerifyRunId = lastVerify !== undefined && lastVerify.status === 'failed' && (lastPush === undefined || lastVerify.id > lastPush.id) ? lastVerify.id : null
    return {
      name,
      key,
      reach: volume.pushTo.includes(name) ? 'pushed' : 'relayed',
      kind: config.destinations.has(name) ? 'directory' : peer !== undefined ? 'peer' : 'unknown',
      lastPushRunId: lastPush?.id ?? null,
      components,
      freshness: fresh,
      failedVerifyRunId
    }
  })
  return { targets, maxEvidenceAgeNs: volume.offloadMaxEvidenceAgeMs === undefined ? undefined : volume.offloadMaxEvidenceAgeMs * 1e6, nowNs }
}
