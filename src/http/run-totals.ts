/**
 * Totals over finished push, receive and pull runs, for /metrics. Runs are never deleted and a
 * finished run never changes (schema triggers runs_no_delete, runs_terminal_immutable), so
 * every total here only grows: they are exported as counters. Running runs are left out
 * until they finish (their counts are final only then).
 */
import type { Store } from '../store/store.js'

export interface RunTotal {
  kind: 'push' | 'receive' | 'pull'
  volume: string | null
  /** The push's destination as recorded (a configured name, or a store key). */
  destination: string | null
  /** The peer's name (its node id when it has none). */
  peer: string | null
  status: string
  runs: number
  files: number
  bytes: number
}

export function runTotals (store: Store): RunTotal[] {
  const rows = store.db.prepare(`
    SELECT r.kind AS kind, v.name AS volume, r.destination AS destination, coalesce(n.name, n.node_id) AS peer, r.status AS status,
           count(*) AS runs, coalesce(sum(r.file_count), 0) AS files, coalesce(sum(r.byte_count), 0) AS bytes
    FROM runs r LEFT JOIN volumes v ON v.id = r.volume_id LEFT JOIN nodes n ON n.id = r.peer_node_id
    WHERE r.kind IN ('push', 'receive', 'pull') AND r.status <> 'running'
    GROUP BY r.kind, r.volume_id, r.destination, r.peer_node_id, r.status`).all() as RunTotal[]
  return rows
}
