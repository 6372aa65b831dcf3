/**
 * A compromised desk that speaks for nas: an independent libp2p host with desk's key answers
 * the victim's pull with a validly signed assertion claiming nas (and nas's offsite) hold the
 * victim's photos far beyond anything pushed. Raw wire, as test/p2p/durability.hostile does.
 */
import type { Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { systemClock } from '../../src/clock.js'
import { createLogger } from '../../src/logger.js'
import { createHost } from '../../src/p2p/host.js'
import { sealAssertion } from '../../src/protocol/envelope.js'
import { DURABILITY_PROTOCOL } from '../../src/protocol/ids.js'
import { Status } from '../../src/protocol/messages.js'
import { encodeDurabilityResponse } from '../../src/protocol/wire.js'
import { pullVolume, type PullReport } from '../../src/pull/pull.js'
import { assertion, component } from '../helpers/assertions.js'
import { locationOf, type Fleet, type NodeName } from './fleet.js'

export const FORGED_RUN = 1_000_000

export async function forgedPull (fleet: Fleet, signer: NodeName, victim: NodeName, claims: string[]): Promise<PullReport> {
  const liar = fleet.nodes[signer].n
  const v = fleet.nodes[victim]
  const now = systemClock.nowNs()
  const components = claims.map(c => {
    const loc = locationOf(c)
    const destination = loc?.kind === 'node' ? fleet.nodes[loc.node].n.key.nodeId : c
    return component(destination, v.n.key.nodeId, FORGED_RUN, { verifyMethod: loc?.kind === 'node' ? 'peer-sha256' : 'sha256-readback', verifiedAtNs: now - 1e6 })
  })
  const freshness = claims.filter(c => locationOf(c)?.kind === 'dir').map(c => ({ destination: c, originNode: v.n.key.nodeId, originRun: FORGED_RUN }))
  const envelope = sealAssertion(liar.key, assertion(liar.key.nodeId, { issuedAtNs: now, components, freshness } as never))
  const host = await createHost({ key: liar.key, listen: ['/ip4/127.0.0.1/tcp/0'], gate: { allows: () => true }, logger: createLogger([], systemClock) })
  await host.handle(DURABILITY_PROTOCOL, async (stream: Stream) => {
    try {
      const io = lpStream(stream)
      await io.read()
      await io.write(encodeDurabilityResponse({ status: Status.OK, envelope, message: '' }))
      await stream.close()
    } catch { /* the victim hung up */ }
  })
  await host.start()
  const client = await v.n.client()
  try {
    const row = fleet.peerRow(victim, signer)
    const addrs = host.getMultiaddrs().map(a => a.toString().replace(/\/p2p\/[^/]+$/, ''))
    return await pullVolume({ store: v.n.store, config: v.n.config, host: client, peer: { ...row, addrs }, volume: 'photos', allowRewind: false, logger: v.n.logger, timeoutMs: 3000 })
  } finally {
    for (const h of [client, host]) {
      try { await h.stop() } catch { /* already stopped */ }
    }
  }
}
