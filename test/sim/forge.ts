/**
 * A compromised desk that speaks for nas: an independent libp2p host with desk's key answers
 * the victim's pull with a validly signed assertion claiming nas (and nas's offsite) hold the
 * victim's photos far beyond anything pushed. Raw wire, as test/p2p/durability.hostile does.
 */
import { createHash } from 'node:crypto'
import type { Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { systemClock } from '../../src/clock.js'
import { createLogger } from '../../src/logger.js'
import { createHost } from '../../src/p2p/host.js'
import { sealAssertion } from '../../src/protocol/envelope.js'
import { DURABILITY_PROTOCOL } from '../../src/protocol/ids.js'
import { Status, type AssertedComponent } from '../../src/protocol/messages.js'
import { encodeDurabilityResponse } from '../../src/protocol/wire.js'
import { pullVolume, type PullReport } from '../../src/pull/pull.js'
import { directoryKey } from '../../src/store/destinations.js'
import { assertion, component } from '../helpers/assertions.js'
import { DIR_LABEL, DIR_OWNER, locationOf, type Fleet, type NodeName } from './fleet.js'

export const FORGED_RUN = 1_000_000

/** Who the forged directory claims name as the marker's owner. */
type Posing = 'true-owner' | 'signer'

/**
 * The forged claims, as the wire carries them: a node's custody under its node id; a directory
 * under its real marker key (as its owner recorded it, or a made-up one before its first push),
 * naming either its true owner (desk speaks for nas's directory) or desk itself (desk claims
 * nas's marker as its own directory).
 */
function forgedComponents (fleet: Fleet, signer: NodeName, victim: NodeName, claims: string[], now: number, posing: Posing): AssertedComponent[] {
  const origin = fleet.nodes[victim].n.key.nodeId
  return claims.flatMap((c): AssertedComponent[] => {
    const loc = locationOf(c, victim)
    if (loc === undefined) return []
    if (loc.kind === 'node') return [component(fleet.nodes[loc.node].n.key.nodeId, origin, FORGED_RUN, { verifyMethod: 'peer-sha256', verifiedAtNs: now - 1e6 })]
    const owner = fleet.nodes[DIR_OWNER[loc.dir]].n
    const key = owner.store.destinations.local(DIR_LABEL[loc.dir])?.key ?? directoryKey(createHash('sha256').update(`sim-forged:${loc.dir}`).digest('hex').slice(0, 32))
    const claimedOwner = posing === 'true-owner' ? owner.key.nodeId : fleet.nodes[signer].n.key.nodeId
    return [component(key, origin, FORGED_RUN, { verifyMethod: 'sha256-readback', verifiedAtNs: now - 1e6, owner: claimedOwner, label: DIR_LABEL[loc.dir] })]
  })
}

/**
 * The victim pulls desk's forgery: first naming the directories' true owners, then (when a
 * directory is claimed) naming desk as their owner. Each envelope has a sequence above the
 * last the victim accepted from desk, so it is judged on what it says, never refused as a replay.
 */
export async function forgedPull (fleet: Fleet, signer: NodeName, victim: NodeName, claims: string[]): Promise<PullReport> {
  const postures: Posing[] = claims.some(c => locationOf(c, victim)?.kind === 'dir') ? ['true-owner', 'signer'] : ['true-owner']
  let report: PullReport | undefined
  for (const posing of postures) report = await pullForgery(fleet, signer, victim, claims, posing)
  if (report === undefined) throw new Error('no forged pull ran')
  return report
}

async function pullForgery (fleet: Fleet, signer: NodeName, victim: NodeName, claims: string[], posing: Posing): Promise<PullReport> {
  const liar = fleet.nodes[signer].n
  const v = fleet.nodes[victim]
  const row = fleet.peerRow(victim, signer)
  const now = systemClock.nowNs()
  const seq = (v.n.store.assertions.watermark(row.id, 'photos')?.counter ?? 0) + 1
  const envelope = sealAssertion(liar.key, assertion(liar.key.nodeId, { issuedAtNs: now, counter: seq, components: forgedComponents(fleet, signer, victim, claims, now, posing) }))
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
    const addrs = host.getMultiaddrs().map(a => a.toString().replace(/\/p2p\/[^/]+$/, ''))
    return await pullVolume({ store: v.n.store, config: v.n.config, host: client, peer: { ...row, addrs }, volume: 'photos', allowRewind: false, logger: v.n.logger, timeoutMs: 3000 })
  } finally {
    for (const h of [client, host]) {
      try { await h.stop() } catch { /* already stopped */ }
    }
  }
}
