import type { VolumeConfig } from '../config/types.js'
import type { PushReport } from '../push/push-report.js'
import type { NodeRow } from '../store/nodes.js'
import type { CliContext } from './context.js'
import { progressBar } from './progress.js'
import { PeerRevokedError, UsageError } from '../errors.js'

/** `cairn push VOLUME --to PEER`: a short-lived host with this node's key pushes to the peer. */
export async function pushToPeerFromCli (ctx: CliContext, volume: VolumeConfig, peer: NodeRow, shallow: boolean, json: boolean): Promise<PushReport> {
  if (shallow) throw new UsageError('--shallow applies to directory destinations; a peer always re-hashes what it receives')
  if (peer.revokedAtNs !== null) throw new PeerRevokedError(peer.nodeId, peer.revokedAtNs, peer.name)
  const store = ctx.store()
  const { createClientHost } = await import('../node.js')
  const { pushToPeer } = await import('../push/peer-push.js')
  const host = await createClientHost(store, ctx.key(), ctx.logger)
  const bar = json ? undefined : progressBar(ctx, `push ${volume.name} → ${peer.name ?? peer.nodeId}`, 'bytes')
  try {
    return await pushToPeer({ store, volume, peer, host, signal: ctx.signal, logger: ctx.logger.forComponent('push'), onProgress: (p) => { bar?.update(p.bytesSent, p.bytesTotal) } })
  } finally {
    bar?.stop()
    await host.stop()
  }
}
