/**
 * `cairn verify VOLUME --at PEER [--sample N]`: asks a peer this node pushes the volume to to
 * re-read what it holds of it (everything, or N files weighted by bytes) and sign a fresh
 * assertion, as a `verify` run of this node's (destination: the peer).
 *
 * The answer is accepted exactly like a pull (src/pull/pull.ts `applyPulledEnvelope`: the
 * signature, the signer — the peer this node dialled —, the volume, the sequence, the scope,
 * then one transaction): the assertion is the peer's whole set, so what the re-read found
 * missing or damaged comes down here at once as a retraction of the peer's custody (audited),
 * and the gate refuses those files until a push places them again. What the peer re-read has a
 * younger `verified_at` only through that assertion — the peer's custody claim carries the
 * oldest read behind it — so nothing here makes evidence younger than a real read.
 *
 * The run ends `success` when the peer found nothing, `failed` (exit 1) when it found files
 * missing or damaged (their evidence is retracted), `refused` when the peer refused or its
 * answer was refused (nothing written), `failed` when it could not be reached.
 */
import type { Libp2p } from '@libp2p/interface'
import type { Config, VolumeConfig } from '../config/types.js'
import { CairnError } from '../errors.js'
import { describeExchangeFailure } from '../p2p/dial-failure.js'
import type { Logger } from '../logger.js'
import { Status, statusName, VerifyProblemKind } from '../protocol/messages.js'
import { applyPulledEnvelope } from '../pull/pull.js'
import type { VerifyReport } from '../push/verify-directory.js'
import type { NodeRow } from '../store/nodes.js'
import type { Store } from '../store/store.js'
import { requestVerify } from './client.js'

export interface PeerVerifyReport extends VerifyReport {
  /** The peer's run that re-read the files (0 when it did not answer). */
  peerRun: number
  /** Bytes the peer re-read. */
  bytesChecked: number
  /** The peer's components that came down with its fresh assertion (retractions, audited). */
  retracted: number
  /** The peer answered BUSY: another run holds the volume there (a schedule tries again shortly). */
  peerBusy: boolean
}

export interface VerifyPeerInit {
  store: Store
  config: Config
  host: Libp2p
  volume: VolumeConfig
  peer: NodeRow
  /** 0: everything. */
  sample: number
  logger: Logger
  onProgress?: (checked: number, bytes: number) => void
  signal?: AbortSignal
  frameDeadlineMs?: number
  maxMs?: number
}

export async function verifyPeer (init: VerifyPeerInit): Promise<PeerVerifyReport> {
  const { store, volume, peer } = init
  const label = peer.name ?? peer.nodeId
  const volRow = store.volumes.ensure(volume.name, volume.path)
  const run = store.runs.begin({ kind: 'verify', volumeId: volRow.id, destination: peer.nodeId, peerNodeId: peer.id, detail: { sample: init.sample } })
  const report: PeerVerifyReport = {
    runId: run.id, volume: volume.name, destination: label, status: 'failed', error: null, checked: 0, mismatched: 0, missing: 0,
    problems: [], reconfirmed: 0, peerRun: 0, bytesChecked: 0, retracted: 0, peerBusy: false
  }
  const finish = (status: PeerVerifyReport['status'], error: string | null): PeerVerifyReport => {
    report.status = status
    report.error = error
    store.runs.finish(run.id, status, {
      error,
      fileCount: report.checked,
      byteCount: report.bytesChecked,
      detail: { sample: init.sample, checked: report.checked, mismatched: report.mismatched, missing: report.missing, peer_run: report.peerRun, retracted: report.retracted, reconfirmed: report.reconfirmed }
    })
    return report
  }

  let reply
  try {
    reply = await requestVerify({
      host: init.host,
      peer,
      volume: volume.name,
      sample: init.sample,
      ...(init.onProgress === undefined ? {} : { onProgress: init.onProgress }),
      ...(init.signal === undefined ? {} : { signal: init.signal }),
      ...(init.frameDeadlineMs === undefined ? {} : { frameDeadlineMs: init.frameDeadlineMs }),
      ...(init.maxMs === undefined ? {} : { maxMs: init.maxMs })
    })
  } catch (err) {
    const message = describeExchangeFailure(err, label)
    init.logger.warn('verify at a peer failed', { peer: label, volume: volume.name, error: message, code: err instanceof Error ? err.name : 'unknown' })
    if (init.signal?.aborted === true) return finish('aborted', `interrupted: ${message}`)
    return finish('failed', message.startsWith(label) || message.startsWith('cannot reach') ? message : `${label}: ${message}`)
  }
  if (reply.envelope === null) {
    const refused = reply.status !== Status.BUSY && reply.status !== Status.INTERNAL
    init.logger.warn('a peer did not verify', { peer: label, volume: volume.name, status: statusName(reply.status), message: reply.message })
    report.peerBusy = reply.status === Status.BUSY
    const hint = reply.status === Status.BUSY ? ' (try again later; a scheduled verify retries by itself)' : ''
    return finish(refused ? 'refused' : 'failed', `${label} answered ${statusName(reply.status)}${reply.message === '' ? '' : `: ${reply.message}`}${hint}`)
  }
  report.peerRun = reply.run
  report.checked = reply.checked
  report.bytesChecked = reply.bytesChecked
  report.mismatched = reply.mismatched
  report.missing = reply.missing
  report.problems = reply.problems.map(p => ({ path: p.path, problem: p.kind === VerifyProblemKind.MISSING ? 'missing' as const : 'mismatched' as const }))
  try {
    const counts = applyPulledEnvelope({ store, config: init.config, volume, volumeId: volRow.id, peer, envelope: reply.envelope, runId: run.id, allowRewind: false })
    report.retracted = counts.retracted
    report.reconfirmed = counts.applied
  } catch (err) {
    if (!(err instanceof CairnError)) {
      finish('failed', `internal error: ${err instanceof Error ? err.message : String(err)}`)
      throw err
    }
    init.logger.warn('refused the assertion a peer signed after its verify; nothing was written', { peer: label, volume: volume.name, code: err.name, error: err.message })
    return finish('refused', `${err.name}: ${err.message}`)
  }
  for (const p of report.problems) store.runs.note(run.id, 'alarm', `${p.path}: ${p.problem} at ${label}`)
  if (reply.status === Status.PARTIAL) {
    init.logger.info('a peer\'s verify found files missing or damaged; its custody of them is retracted', { peer: label, volume: volume.name, missing: reply.missing, mismatched: reply.mismatched, peer_run: reply.run })
    const found = reply.missing + reply.mismatched
    return finish('failed', found > 0
      ? `${reply.missing} missing and ${reply.mismatched} changed or damaged file(s) at ${label} (its run ${reply.run}); their evidence is retracted until a push places them again`
      : `${label} could not re-read everything (its run ${reply.run}): ${reply.message}`)
  }
  return finish('success', null)
}
