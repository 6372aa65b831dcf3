/**
 * Regression for issue 12's finding "any enrolled peer may speak for another": a compromised,
 * enrolled `desk` answered laptop's pull with a validly signed assertion "nas holds laptop's
 * photos through run 1000000" (destination = nas's node id) and "offsite holds them"; laptop
 * stored it (dropped = 0) and offloaded a file nas never had; `peer revoke nas` then dropped 0
 * components and desk's claim stayed. DESIGN invariant 28: a peer's custody is accepted only in
 * that peer's own signature; what a peer says about a third node is dropped and counted; a
 * required target that is revoked always refuses, whoever speaks for it. Invariant 20: a
 * relayed claim covers a file only through a chain that holds it.
 *
 * desk is an independent libp2p host with an enrolled key that serves whatever it likes on
 * the durability protocol; nas is enrolled on laptop but never says anything.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Libp2p } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { systemClock } from '../../src/clock.js'
import { nodeKeyFromSeed, type NodeKey } from '../../src/identity/node-key.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { createLogger } from '../../src/logger.js'
import { offloadVolume, type OffloadInit, type OffloadReport } from '../../src/offload/offload.js'
import { createHost } from '../../src/p2p/host.js'
import { sealAssertion } from '../../src/protocol/envelope.js'
import { DURABILITY_PROTOCOL } from '../../src/protocol/ids.js'
import { Status, type AssertedComponent, type Assertion } from '../../src/protocol/messages.js'
import { encodeDurabilityResponse } from '../../src/protocol/wire.js'
import { pullVolume, type PullReport } from '../../src/pull/pull.js'
import { directoryKey } from '../../src/store/destinations.js'
import { revokeSource } from '../../src/store/revocation.js'
import { assertion } from '../helpers/assertions.js'
import { inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'

const deskKey: NodeKey = nodeKeyFromSeed(new Uint8Array(32).fill(0x6d))
const nasKey: NodeKey = nodeKeyFromSeed(new Uint8Array(32).fill(0x6e))
const P = '2019/p.jpg'
const BYTES = 'a photo nas never had'
const FAR = 1_000_000
const PULL_TIMEOUT_MS = 3_000
/** The key of a directory desk claims nas owns (laptop never heard of it from nas). */
const OFFSITE = directoryKey('6e'.repeat(16))

/**
 * An assertion as the current wire types want it, built from the fields this test cares about:
 * adds empty `exceptions` / `tombstones` (protocol 2.0.0, being written) and keeps `freshness`
 * (1.0.0), so the test builds the same statement against either encoder.
 */
type LooseAssertion = Omit<Assertion, 'components' | 'freshness' | 'tombstones'> & { components: Array<Omit<AssertedComponent, 'exceptions'>>, freshness?: unknown[] }
function wire (a: LooseAssertion): Assertion {
  return { tombstones: [], freshness: [], ...a, components: a.components.map(c => ({ exceptions: [], ...c })) } as unknown as Assertion
}

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c() })

async function fleet () {
  const root = tempDir('cairn-audit-speaks-')
  const photos = join(root, 'photos')
  mkdirSync(join(photos, '2019'), { recursive: true })
  // nas is required; offsite is the directory only nas reaches. laptop pushes to neither here.
  const laptop: InProcessNode = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${photos}"\noffload_requires = ["nas", "nas/offsite"]\n`)
  await laptop.start()
  cleanup.push(async () => { await laptop.close() })
  let seq = 1_000
  const desk: Libp2p = await createHost({ key: deskKey, listen: ['/ip4/127.0.0.1/tcp/0'], gate: { allows: () => true }, logger: createLogger([], systemClock) })
  await desk.handle(DURABILITY_PROTOCOL, async (stream) => {
    try {
      await lpStream(stream).read()
      const now = systemClock.nowNs()
      const laptopId = laptop.key.nodeId
      const lie = wire({
        ...assertion(deskKey.nodeId),
        epoch: 'e0e0e0e0e0e0e0e0', counter: ++seq,
        issuedAtNs: now,
        components: [
          { destination: nasKey.nodeId, originNode: laptopId, originRun: FAR, verifyMethod: 'peer-sha256', verifiedAtNs: now - 1e9 },
          // "nas's directory offsite holds them": a marker desk says nas owns and labels offsite
          { destination: OFFSITE, owner: nasKey.nodeId, label: 'offsite', originNode: laptopId, originRun: FAR, verifyMethod: 'sha256-readback', verifiedAtNs: now - 1e9 }
        ]
      })
      await lpStream(stream).write(encodeDurabilityResponse({ status: Status.OK, envelope: sealAssertion(deskKey, lie), message: '' }))
      await stream.close()
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  })
  await desk.start()
  cleanup.push(async () => { await desk.stop() })
  const deskRow = laptop.store.nodes.enrollPeer(deskKey.nodeId, 'desk', desk.getMultiaddrs().map(a => a.toString().replace(/\/p2p\/.*$/, '')))
  const nasRow = laptop.store.nodes.enrollPeer(nasKey.nodeId, 'nas', ['/ip4/127.0.0.1/tcp/1'])
  const volume = laptop.config.volumes.get('photos')!
  writeFileSync(join(photos, P), BYTES)
  await indexVolume({ store: laptop.store, volume, quick: false, logger: laptop.logger })
  const volId = laptop.store.volumes.get('photos')!.id
  const pullDesk = async (): Promise<PullReport> => await pullVolume({
    store: laptop.store, config: laptop.config, host: laptop.node!.host, peer: laptop.store.nodes.byRowId(deskRow.id)!, volume: 'photos', allowRewind: false, logger: laptop.logger, timeoutMs: PULL_TIMEOUT_MS
  })
  const offload = async (dryRun: boolean): Promise<OffloadReport> => await offloadVolume({
    store: laptop.store, config: laptop.config, volume, selectors: ['.'], dryRun, perFile: true, logger: laptop.logger,
    host: laptop.node!.host // a hold needs the peer (a field being added to OffloadInit)
  } as OffloadInit)
  /** Live components about nas (its custody), whoever asserted them. */
  const aboutNas = () => laptop.store.vector.list(volId).filter(c => c.destination === nasKey.nodeId)
  /** The required targets refusing p.jpg in a dry run. */
  const refusing = async (): Promise<string[]> => {
    const r = await offload(true)
    return [...new Set((r.files ?? []).filter(f => f.path === P).flatMap(f => f.reasons.map(x => x.target)))]
  }
  const survives = (): boolean => readFileSync(join(photos, P), 'utf8') === BYTES
  return { laptop, nasRow, deskRow, pullDesk, offload, aboutNas, refusing, survives }
}

describe('audit: a peer never speaks for another node', () => {
  it('drops and counts a claim signed by desk about nas\'s custody, and its gate does not pass on it', async () => {
    const f = await fleet()
    const r = await f.pullDesk()
    expect(r.status).toBe('success')
    expect(r.fetched).toBeGreaterThan(0)
    expect(r.dropped).toBeGreaterThanOrEqual(1)
    // both claims are about a third node (nas's custody, a directory desk says nas owns)
    expect(r.dropped).toBe(2)
    expect(r.drops.map(d => d.kind)).toEqual(['third-party', 'third-party'])
    // nothing desk said about nas is live evidence, and desk's word registers no directory of nas
    expect(f.aboutNas()).toEqual([])
    expect(f.laptop.store.destinations.byKey(OFFSITE)).toBeUndefined()
    expect(f.laptop.store.vector.list(f.laptop.store.volumes.get('photos')!.id).filter(c => c.destination === OFFSITE)).toEqual([])
    const targets = await f.refusing()
    expect(targets).toContain('nas')
    // desk's word about offsite reaches p.jpg through no chain that holds it either
    expect(targets).toContain('nas/offsite')
    const real = await f.offload(false)
    expect(real.offloaded).toBe(0)
    expect(f.survives()).toBe(true)
  })

  it('refuses a requirement on a revoked nas whoever speaks for it, and `peer revoke nas` leaves no live claim about nas', async () => {
    const f = await fleet()
    await f.pullDesk()
    revokeSource(f.laptop.store, f.nasRow.id)
    expect(f.aboutNas()).toEqual([])
    // desk keeps speaking for nas after the revocation
    await f.pullDesk()
    expect(f.aboutNas()).toEqual([])
    expect(await f.refusing()).toContain('nas')
    const real = await f.offload(false)
    expect(real.offloaded).toBe(0)
    expect(f.survives()).toBe(true)
  })
})
