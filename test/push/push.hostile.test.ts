import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Libp2p, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { systemClock } from '../../src/clock.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { nodeKeyFromSeed, type NodeKey } from '../../src/identity/node-key.js'
import { createLogger } from '../../src/logger.js'
import { createHost } from '../../src/p2p/host.js'
import { sealAssertion } from '../../src/protocol/envelope.js'
import { PUSH_PROTOCOL } from '../../src/protocol/ids.js'
import { Status, type PlanEntry } from '../../src/protocol/messages.js'
import { decodePlanChunk, decodePlanReply, decodePushOffer, decodePushResult, encodePlanChunk, encodePlanReply, encodePushOffer, encodePushResult } from '../../src/protocol/wire.js'
import { pushToPeer } from '../../src/push/peer-push.js'
import { gateFile } from '../../src/offload/gate.js'
import { loadGatePolicy } from '../../src/offload/gate-policy.js'
import { inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'
import { snapshotEvidence } from '../helpers/vector.js'

const hostileKey: NodeKey = nodeKeyFromSeed(new Uint8Array(32).fill(0x71))
const otherKey: NodeKey = nodeKeyFromSeed(new Uint8Array(32).fill(0x72))
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0)) await c() })

function sha (s: string | Uint8Array): Uint8Array {
  return createHash('sha256').update(s).digest()
}

async function hostileHost (): Promise<Libp2p> {
  const h = await createHost({ key: hostileKey, listen: ['/ip4/127.0.0.1/tcp/0'], gate: { allows: () => true }, logger: createLogger([], systemClock) })
  await h.start()
  cleanups.push(async () => { await h.stop() })
  return h
}

function listFiles (dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter(e => e.isFile()).map(e => join(e.parentPath, e.name).slice(dir.length + 1)).sort()
}

describe('receiving pushes from a hostile peer', () => {
  async function receiver (): Promise<{ root: string, nas: InProcessNode, hostile: Libp2p, open: () => Promise<Stream> }> {
    const root = tempDir('cairn-recv-hostile-')
    mkdirSync(join(root, 'nas-photos'))
    writeFileSync(join(root, 'nas-photos/own.txt'), 'the receiver\'s own file')
    const nas = inProcessNode(root, 'nas', `[volumes.photos]\npath = "${root}/nas-photos"\n`)
    await nas.start({ pushFrameDeadlineMs: 500 })
    cleanups.push(async () => { await nas.close() })
    await indexVolume({ store: nas.store, volume: nas.config.volumes.get('photos')!, quick: false, logger: nas.logger })
    nas.store.nodes.enrollPeer(hostileKey.nodeId, 'laptop', [])
    const hostile = await hostileHost()
    const open = async (): Promise<Stream> => await hostile.dialProtocol(multiaddr(`${nas.node!.addrs()[0] ?? ''}/p2p/${nas.key.nodeId}`), PUSH_PROTOCOL)
    return { root, nas, hostile, open }
  }

  async function offerAndPlan (s: Stream, entries: PlanEntry[], extra: { offered?: number, lp?: ReturnType<typeof lpStream> } = {}): Promise<{ first: number, second?: { status: number, need: number[] } }> {
    const lp = extra.lp ?? lpStream(s)
    await lp.write(encodePushOffer({ volume: 'photos', pusherRun: 7, entries: extra.offered ?? entries.length, totalBytes: entries.reduce((n, e) => n + e.size, 0), origins: [hostileKey.nodeId] }))
    const first = decodePlanReply(await lp.read({ signal: AbortSignal.timeout(3000) }), 0)
    if (first.status !== Status.OK) return { first: first.status }
    await lp.write(encodePlanChunk({ entries, last: true }))
    const second = await lp.read({ signal: AbortSignal.timeout(3000) }).then(b => {
      try { return decodePlanReply(b, entries.length) } catch { return { status: decodePushResult(b, entries.length).status, need: [] } }
    }, () => ({ status: -1, need: [] }))
    return { first: first.status, second }
  }

  function entry (path: string, content: string): PlanEntry {
    return { path, hash: sha(content), size: Buffer.byteLength(content), mtimeNs: 1_700_000_000e9, originIndex: 0, originRun: 3 }
  }

  it('refuses a plan path that escapes the volume and writes nothing anywhere', async () => {
    const { root, nas, open } = await receiver()
    const before = listFiles(root)
    const evidence = snapshotEvidence(nas.store)
    const s = await open()
    const r = await offerAndPlan(s, [entry('ok.txt', 'x'), entry('../../etc/x', 'pwned')])
    expect(r.second?.status).toBe(Status.INVALID_REQUEST)
    expect(existsSync(join(root, '../etc/x'))).toBe(false)
    expect(listFiles(root).filter(f => !f.startsWith('nas/') && !f.includes('cairn.db'))).toEqual(before.filter(f => !f.startsWith('nas/') && !f.includes('cairn.db')))
    expect(snapshotEvidence(nas.store)).toBe(evidence)
    const receive = nas.store.runs.list({ kind: 'receive' })[0]
    expect(receive?.status).toBe('failed')
  })

  it.each([
    ['a reserved .cairn name', '.cairn-history/x'],
    ['an absolute path', '/etc/passwd'],
    ['a NUL byte', 'a\0b'],
    ['a dot segment', 'a/./b']
  ])('refuses %s in a plan', async (_label, path) => {
    const { nas, open } = await receiver()
    const evidence = snapshotEvidence(nas.store)
    const r = await offerAndPlan(await open(), [entry(path, 'x')])
    expect(r.second?.status).toBe(Status.INVALID_REQUEST)
    expect(snapshotEvidence(nas.store)).toBe(evidence)
  })

  it('refuses a plan that names one path twice, or has more entries than offered', async () => {
    const { open } = await receiver()
    expect((await offerAndPlan(await open(), [entry('a', '1'), entry('a', '2')])).second?.status).toBe(Status.INVALID_REQUEST)
    expect((await offerAndPlan(await open(), [entry('a', '1'), entry('b', '2')], { offered: 1 })).second?.status).toBe(Status.INVALID_REQUEST)
  })

  it('refuses data frames beyond an entry\'s planned size and commits nothing', async () => {
    const { root, nas, open } = await receiver()
    const evidence = snapshotEvidence(nas.store)
    const s = await open()
    const lp = lpStream(s)
    const r = await offerAndPlan(s, [entry('small.txt', 'four')], { lp })
    expect(r.second).toMatchObject({ status: Status.OK, need: [0] })
    await lp.write(new TextEncoder().encode('far more than four bytes'))
    const result = decodePushResult(await lp.read({ signal: AbortSignal.timeout(3000) }), 1)
    expect(result).toMatchObject({ status: Status.INVALID_REQUEST, receipt: null })
    expect(existsSync(join(root, 'nas-photos/small.txt'))).toBe(false)
    expect(snapshotEvidence(nas.store)).toBe(evidence)
  })

  it('gives up on a pusher that stalls mid-transfer once the frame deadline fires: no receipt, no partial file, staging removed', async () => {
    const { root, nas, open } = await receiver()
    const s = await open()
    const lp = lpStream(s)
    await offerAndPlan(s, [entry('big.bin', 'x'.repeat(100))], { lp })
    await lp.write(new TextEncoder().encode('x'.repeat(10)))
    const outcome = await lp.read({ signal: AbortSignal.timeout(3000) }).then(() => 'answered', () => 'closed')
    expect(outcome).toBe('closed')
    await new Promise(resolve => setTimeout(resolve, 200))
    expect(existsSync(join(root, 'nas-photos/big.bin'))).toBe(false)
    expect(listFiles(join(root, 'nas-photos')).filter(f => !f.startsWith('.cairn'))).toEqual(['own.txt'])
    expect(listFiles(join(root, 'nas-photos/.cairn-staging'))).toEqual([])
    expect(nas.store.runs.list({ kind: 'receive' })[0]?.status).toBe('failed')
  })

  it('refuses a pusher that is not enrolled at the connection', async () => {
    const { nas } = await receiver()
    const stranger = await createHost({ key: otherKey, listen: [], gate: { allows: () => true }, logger: createLogger([], systemClock) })
    await stranger.start()
    cleanups.push(async () => { await stranger.stop() })
    await expect(stranger.dialProtocol(multiaddr(`${nas.node!.addrs()[0] ?? ''}/p2p/${nas.key.nodeId}`), PUSH_PROTOCOL).then(async (s) => {
      await lpStream(s).write(encodePushOffer({ volume: 'photos', pusherRun: 1, entries: 0, totalBytes: 0, origins: [] }))
      return await lpStream(s).read({ signal: AbortSignal.timeout(2000) })
    })).rejects.toThrow()
    expect(nas.store.runs.list({ kind: 'receive' })).toEqual([])
  })
})

describe('pushing to a hostile receiver', () => {
  type ReceiptMaker = (offer: ReturnType<typeof decodePushOffer>, plan: PlanEntry[]) => Uint8Array | null

  async function pusher (makeReceipt: ReceiptMaker): Promise<{ laptop: InProcessNode, run: () => ReturnType<typeof pushToPeer> }> {
    const root = tempDir('cairn-push-hostile-')
    mkdirSync(join(root, 'photos'))
    writeFileSync(join(root, 'photos/a.jpg'), 'alpha')
    const laptop = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${root}/photos"\n`)
    await laptop.start()
    cleanups.push(async () => { await laptop.close() })
    await indexVolume({ store: laptop.store, volume: laptop.config.volumes.get('photos')!, quick: false, logger: laptop.logger })
    const hostile = await hostileHost()
    await hostile.handle(PUSH_PROTOCOL, async (s) => {
      const lp = lpStream(s)
      const offer = decodePushOffer(await lp.read())
      await lp.write(encodePlanReply({ status: Status.OK, need: [], message: '' }))
      const plan = decodePlanChunk(await lp.read(), offer.origins.length).entries
      await lp.write(encodePlanReply({ status: Status.OK, need: plan.map((_, i) => i), message: '' }))
      let left = plan.reduce((n, e) => n + e.size, 0)
      while (left > 0) left -= (await lp.read()).byteLength
      await lp.write(encodePushResult({ status: Status.OK, receipt: makeReceipt(offer, plan), failures: [], message: '', filesWritten: plan.length, bytesWritten: 0 }))
      await s.close()
    })
    laptop.store.nodes.enrollPeer(hostileKey.nodeId, 'nas', hostile.getMultiaddrs().map(a => a.toString().replace(/\/p2p\/.*$/, '')))
    laptop.store.nodes.enrollPeer(otherKey.nodeId, 'friend', [])
    const peer = laptop.store.nodes.byNodeId(hostileKey.nodeId)!
    return { laptop, run: async () => await pushToPeer({ store: laptop.store, volume: laptop.config.volumes.get('photos')!, peer, host: laptop.node!.host, logger: laptop.logger }) }
  }

  type Component = Parameters<typeof sealAssertion>[1]['components'][number]
  const receipt = (key: NodeKey, over: Partial<{ destination: string, run: number, receiptFor: number, method: 'peer-sha256' | 'sha256-readback' | 'presence+size' }> = {}, extra: (offer: ReturnType<typeof decodePushOffer>) => Component[] = () => []): ReceiptMaker => (offer, plan) => sealAssertion(key, {
    signer: key.nodeId,
    volume: 'photos',
    epoch: 'e0e0e0e0e0e0e0e0', counter: 100,
    issuedAtNs: systemClock.nowNs(),
    receiptFor: over.receiptFor ?? offer.pusherRun,
    components: [{ destination: over.destination ?? hostileKey.nodeId, originNode: offer.origins[0]!, originRun: over.run ?? plan[0]!.originRun, verifyMethod: over.method ?? 'peer-sha256', verifiedAtNs: systemClock.nowNs(), exceptions: [] }, ...extra(offer)],
    tombstones: []
  })

  /** The gate's causes per present file of laptop's photos, for a volume requiring `requires`. */
  function gateCauses (laptop: InProcessNode, requires: string[] = ['nas']): Record<string, string[]> {
    const volume = { ...laptop.config.volumes.get('photos')!, offloadRequires: requires }
    const policy = loadGatePolicy(laptop.store, laptop.config, volume, systemClock.nowNs())
    const out: Record<string, string[]> = {}
    for (const row of laptop.store.files.iterateGateRows(laptop.store.volumes.get('photos')!.id)) out[row.path] = gateFile(policy, row).map(x => x.cause)
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a < b ? -1 : 1))
  }

  it.each([
    ['signed by a different enrolled key', receipt(otherKey), 'SignerMismatchError'],
    ['signed by an unknown key', receipt(nodeKeyFromSeed(new Uint8Array(32).fill(0x73))), 'UnknownSignerError'],
    ['for another run', receipt(hostileKey, { receiptFor: 999 }), 'AssertionContextError']
  ])('refuses a receipt %s and records nothing', async (_label, maker, code) => {
    const { laptop, run } = await pusher(maker)
    const before = snapshotEvidence(laptop.store)
    const r = await run()
    expect(r.status).toBe('refused')
    expect(r.error).toMatch(new RegExp(`^${code}`))
    expect(snapshotEvidence(laptop.store)).toBe(before)
    expect(gateCauses(laptop)).toEqual({ 'a.jpg': ['not-pushed'] })
  })

  it('never passes a file on a receipt whose custody reaches above the snapshot beyond what was placed there', async () => {
    const { laptop, run } = await pusher(receipt(hostileKey, { run: 1000 }))
    const r = await run()
    expect(r.status).toBe('success')
    // the peer's custody is recorded as the peer signed it, attributed to the peer
    const volId = laptop.store.volumes.get('photos')!.id
    const nas = laptop.store.nodes.byNodeId(hostileKey.nodeId)!
    expect(laptop.store.vector.list(volId).filter(c => c.destination === hostileKey.nodeId)).toEqual([expect.objectContaining({ originRunId: 1000, sourceNodeId: nas.id })])
    // only what was placed is recorded as placed
    expect([...laptop.store.placements.forVolume(hostileKey.nodeId, volId).keys()]).toEqual(['a.jpg'])
    expect(gateCauses(laptop)).toEqual({ 'a.jpg': [] })
    // files indexed after the push, at runs the custody claim "covers", were never placed there
    writeFileSync(join(laptop.config.volumes.get('photos')!.path, 'b.jpg'), 'bravo')
    writeFileSync(join(laptop.config.volumes.get('photos')!.path, 'a.jpg'), 'alpha, edited')
    const reindex = await indexVolume({ store: laptop.store, volume: laptop.config.volumes.get('photos')!, quick: false, logger: laptop.logger })
    expect(reindex.runId).toBeLessThan(1000)
    expect(gateCauses(laptop)).toEqual({ 'a.jpg': ['not-pushed'], 'b.jpg': ['not-pushed'] })
  })

  it('drops a receipt\'s claim about a third node and changes nothing about that node', async () => {
    const thirdOrigin = nodeKeyFromSeed(new Uint8Array(32).fill(0x74)).nodeId
    const { laptop, run } = await pusher(receipt(hostileKey, {}, offer => [
      // over friend's own custody claim, and about an origin friend never claimed
      { destination: otherKey.nodeId, originNode: offer.origins[0]!, originRun: 1000, verifyMethod: 'peer-sha256', verifiedAtNs: systemClock.nowNs(), exceptions: [] },
      { destination: otherKey.nodeId, originNode: thirdOrigin, originRun: 5, verifyMethod: 'peer-sha256', verifiedAtNs: systemClock.nowNs(), exceptions: [] }
    ]))
    const volId = laptop.store.volumes.get('photos')!.id
    const friend = laptop.store.nodes.byNodeId(otherKey.nodeId)!
    // friend's own custody, as friend asserted it earlier
    const pull = laptop.store.runs.begin({ kind: 'pull', volumeId: volId, peerNodeId: friend.id })
    laptop.store.db.transaction(() => laptop.store.vector.replaceFromSource(volId, friend.id, [{ destination: otherKey.nodeId, originNodeId: laptop.store.nodes.self().id, originRunId: 1, verifyMethod: 'peer-sha256', verifiedAtNs: systemClock.nowNs(), exceptions: [{ path: 'a.jpg', run: 1 }] }], null, pull.id)).immediate()
    laptop.store.runs.finish(pull.id, 'success')
    const aboutFriend = (): unknown => ({
      vector: laptop.store.vector.list(volId).filter(c => c.destination === otherKey.nodeId || c.sourceNodeId === friend.id),
      placements: [...laptop.store.placements.forVolume(otherKey.nodeId, volId)],
      retractions: laptop.store.vector.retractions(volId).filter(x => x.destination === otherKey.nodeId)
    })
    const before = aboutFriend()
    expect(gateCauses(laptop, ['friend'])).toEqual({ 'a.jpg': ['not-pushed'] })
    const r = await run()
    // the receipt's own custody still counts: the drop is of the third-party claim only
    expect(r.status).toBe('success')
    expect(aboutFriend()).toEqual(before)
    expect(laptop.store.vector.list(volId).filter(c => c.sourceNodeId === laptop.store.nodes.byNodeId(hostileKey.nodeId)!.id).map(c => c.destination)).toEqual([hostileKey.nodeId])
    expect(laptop.store.nodes.byNodeId(thirdOrigin)).toBeUndefined()
    expect(gateCauses(laptop, ['friend'])).toEqual({ 'a.jpg': ['not-pushed'] })
    expect(gateCauses(laptop)).toEqual({ 'a.jpg': [] })
  })

  it.each([
    ['sha256-readback'],
    ['presence+size']
  ] as const)('never opens the gate on a custody claim with the method %s (only peer-sha256 does)', async (method) => {
    const { laptop, run } = await pusher(receipt(hostileKey, { method }))
    await run()
    const causes = gateCauses(laptop)
    expect(Object.keys(causes)).toEqual(['a.jpg'])
    expect(causes['a.jpg']).not.toEqual([])
  })

  it('does not call a push successful without a receipt', async () => {
    const { laptop, run } = await pusher(() => null)
    const before = snapshotEvidence(laptop.store)
    expect((await run()).status).toBe('failed')
    expect(snapshotEvidence(laptop.store)).toBe(before)
    expect(gateCauses(laptop)).toEqual({ 'a.jpg': ['not-pushed'] })
  })

  it('accepts an honest receipt and the gate opens on it (the harness itself is sound)', async () => {
    const { laptop, run } = await pusher(receipt(hostileKey))
    expect(gateCauses(laptop)).toEqual({ 'a.jpg': ['not-pushed'] })
    expect((await run()).status).toBe('success')
    expect(gateCauses(laptop)).toEqual({ 'a.jpg': [] })
  })
})
