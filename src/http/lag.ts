/**
 * How far a target's evidence is behind this node's own data, in index runs ("runs behind").
 *
 * This node is the origin of what it indexes; each index run that records new or changed
 * files gives those versions its run id as their origin run. A target's evidence for this
 * node as origin covers versions up to a run R (the vector component's `origin_run`). Its
 * lag is the number of distinct index runs of this node whose versions of the volume lie
 * above R: 0 means the target's evidence reaches this node's newest recorded version; an
 * index run that found nothing new adds no lag. A target with no evidence for this node has
 * R = 0, so every such run counts. Holes inside R (exceptions) are not lag: the offload
 * report names them file by file.
 */
import type { Store } from '../store/store.js'

export interface TargetLag {
  /** The run this target's evidence covers for this node as origin (0: none). */
  covered_run: number
  /** This node's newest index run that recorded a version of the volume (null: none yet). */
  latest_run: number | null
  /** Index runs of this node with versions above covered_run. */
  runs_behind: number
}

/**
 * The lag of a volume's targets by key; a null key (a directory before its first push) has
 * no evidence, so it is behind by every run.
 */
export function targetLags (store: Store, volumeName: string): (key: string | null) => TargetLag {
  const row = store.volumes.get(volumeName)
  if (row === undefined) return () => ({ covered_run: 0, latest_run: null, runs_behind: 0 })
  const self = store.nodes.self()
  // distinct origin runs of this node's own versions, newest first (bounded by its index runs)
  const runs = (store.db.prepare('SELECT DISTINCT origin_run_id AS run FROM files WHERE volume_id = ? AND origin_node_id = ? AND origin_run_id IS NOT NULL ORDER BY run DESC')
    .all(row.id, self.id) as Array<{ run: number }>).map(r => r.run)
  const covered = new Map<string, number>()
  for (const c of store.vector.list(row.id)) {
    if (c.originNodeId === self.id) covered.set(c.destination, c.originRunId)
  }
  return (key) => {
    const r = key === null ? 0 : covered.get(key) ?? 0
    let behind = 0
    for (const run of runs) {
      if (run <= r) break
      behind++
    }
    return { covered_run: r, latest_run: runs[0] ?? null, runs_behind: behind }
  }
}
