/**
 * What a push (to a directory or to a peer) reports, and how its run is finished: one place,
 * so both kinds of push record the same facts.
 */
import type { CairnError } from '../errors.js'
import type { Store } from '../store/store.js'
import type { VerifyMethod } from '../verify-method.js'

export interface PushProgress {
  filesDone: number
  filesTotal: number
  bytesSent: number
  bytesTotal: number
}

/**
 * Why one file did not land: `conflict` (a receiving peer kept its own file at the path,
 * DESIGN invariant 25), `refused` (a destination or volume path is taken or in the way),
 * `hash-mismatch`, `readback-mismatch`, `path-collision`, `write-failed`, `error`.
 */
export type PushFailureCode = 'conflict' | 'refused' | 'hash-mismatch' | 'readback-mismatch' | 'path-collision' | 'write-failed' | 'error'

export interface PushFailure {
  path: string
  reason: string
  /** Machine-readable kind (absent on failures recorded before codes existed). */
  code?: PushFailureCode
}

export interface PushReport {
  runId: number
  volume: string
  /** The destination as the operator names it. */
  destination: string
  /** `aborted`: interrupted (SIGINT/SIGTERM); what it placed before the interrupt is recorded. */
  status: 'success' | 'partial' | 'failed' | 'refused' | 'aborted'
  error: string | null
  filesSent: number
  bytesSent: number
  filesSkipped: number
  method: VerifyMethod
  /** The components the vector advanced to (origin node row id → run); empty unless recorded. */
  advanced: Array<{ originNodeId: number, originRunId: number }>
  failures: PushFailure[]
  /** The typed error behind a `refused` run. */
  refusal?: CairnError
}

export function newPushReport (runId: number, volume: string, destination: string, method: VerifyMethod): PushReport {
  return { runId, volume, destination, status: 'failed', error: null, filesSent: 0, bytesSent: 0, filesSkipped: 0, method, advanced: [], failures: [] }
}

/** Sets the report's status and finishes its run, with an event per failed file (at most 100). */
export function finishPushRun (store: Store, report: PushReport, status: PushReport['status'], error: string | null): PushReport {
  report.status = status
  report.error = error
  for (const f of report.failures.slice(0, 100)) store.runs.note(report.runId, 'file-failed', `${f.path}: ${f.reason}`)
  store.runs.finish(report.runId, status, {
    error,
    fileCount: report.filesSent,
    byteCount: report.bytesSent,
    detail: { files_skipped: report.filesSkipped, failures: report.failures.length, advanced: report.advanced.map(a => ({ origin_node_id: a.originNodeId, origin_run: a.originRunId })) }
  })
  return report
}
