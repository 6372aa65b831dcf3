import { mkdirSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Libp2p, Stream } from '@libp2p/interface'
import { afterEach, describe, expect, it } from 'vitest'
import { indexVolume } from '../../src/index/index-volume.js'
import { whereIs } from '../../src/offload/where.js'
import { parseSelectors } from '../../src/offload/selectors.js'
import { openPeerStream } from '../../src/p2p/dial.js'
import { framed, type Framed } from '../../src/p2p/frames.js'
import { VERIFY_PROTOCOL } from '../../src/protocol/ids.js'
import { MAX_FRAME_BYTES, MAX_VERIFY_SAMPLE } from '../../src/protocol/limits.js'
import { Status, VerifyProblemKind, type VerifyReply, type VerifyRequest } from '../../src/protocol/messages.js'
import { uvarint } from '../../src/protocol/varint.js'
import { decodeVerifyReply, decodeVerifyRequest, encodeVerifyReply, encodeVerifyRequest } from '../../src/protocol/wire.js'
import { sealLocalAssertion } from '../../src/pull/local-assertion.js'
import { pushToPeer } from '../../src/push/peer-push.js'
import type { NodeRow } from '../../src/store/nodes.js'
import { verifyPeer, type PeerVerifyReport } from '../../src/verify/verify-peer.js'
import { enroll, inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'

/**
 * `/cairn/verify/1.0.0` against hostile peers, with real nodes on 127.0.0.1. laptop pushes
 * `photos` to nas. On the server side a raw client (laptop, or a "stranger" nas knows but does
 * not share the volume with) sends requests nas must refuse at the edge: it answers a status,
 * starts no run and reads nothing. On the requester side nas's verify handler is replaced by a
 * hostile one (stalls, endless progress, another node's signature, a replayed assertion,
 * malformed frames, counts that contradict the signature): laptop's verify fails or is refused
 * and writes nothing to its vector — what it writes follows the signed envelope only.
 */

const nodes: InProcessNode[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

const FILES: Record<string, Buffer> = {
  '2019/01/p1.jpg': Buffer.from('the only photo of the summer'),
  '2019/01/p2.jpg': Buffer.alloc(20_000, 3)
}

interface Fleet { root: string, laptop: InProcessNode, nas: InProcessNode, stranger: InProcessNode, nasRow: NodeRow, verify: (over?: { sample?: number, frameDeadlineMs?: number, maxMs?: number }) => Promise<PeerVerifyReport> }

/** laptop pushes photos to nas; stranger is enrolled both ways with nas (and at laptop) but shares nothing. */
async function fleet (): Promise<Fleet> {
  const root = tempDir('cairn-verify-hostile-')
  mkdirSync(join(root, 'photos'), { recursive: true })
  const laptop = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${root}/photos"\npush_to = ["nas"]\n`)
  const nas = inProcessNode(root, 'nas', `[volumes.photos]\npath = "${root}/nas-photos"\n`)
  const stranger = inProcessNode(root, 'stranger', `[volumes.photos]\npath = "${root}/stranger-photos"\n`)
  nodes.push(laptop, nas, stranger)
  await laptop.initVolumes()
  await nas.initVolumes()
  await laptop.start()
  await nas.start({ pushFrameDeadlineMs: 5000, verifyFrameDeadlineMs: 2000, verifyProgressMs: 100 })
  enroll(laptop, nas)
  enroll(nas, laptop)
  enroll(nas, stranger)
  enroll(stranger, nas)
  enroll(laptop, stranger)
  for (const [p, bytes] of Object.entries(FILES)) {
    mkdirSync(join(root, 'photos', p, '..'), { recursive: true })
    writeFileSync(join(root, 'photos', p), bytes)
    utimesSync(join(root, 'photos', p), 1_700_000_000, 1_700_000_000)
  }
  const volume = laptop.config.volumes.get('photos')!
  const nasRow = laptop.store.nodes.byNodeId(nas.key.nodeId)!
  await indexVolume({ store: laptop.store, volume, quick: false, logger: laptop.logger })
  const pushed = await pushToPeer({ store: laptop.store, volume, peer: nasRow, host: laptop.node!.host, logger: laptop.logger })
  expect(pushed.status, pushed.error ?? '').toBe('success')
  const verify = async (over: { sample?: number, frameDeadlineMs?: number, maxMs?: number } = {}): Promise<PeerVerifyReport> =>
    await verifyPeer({ store: laptop.store, config: laptop.config, host: laptop.node!.host, volume, peer: nasRow, sample: over.sample ?? 0, logger: laptop.logger, frameDeadlineMs: over.frameDeadlineMs ?? 3000, ...(over.maxMs === undefined ? {} : { maxMs: over.maxMs }) })
  return { root, laptop, nas, stranger, nasRow, verify }
}

/** Everything a node could write for a volume: its vector, vector history, stored assertions, files and contents rows, and its runs. */
function written (n: InProcessNode): Record<string, unknown> {
  const volId = n.store.volumes.get('photos')?.id ?? -1
  const all = (sql: string): unknown[] => n.store.db.prepare(sql).all()
  return {
    vector: n.store.vector.list(volId),
    history: n.store.vector.history(volId),
    assertions: all('SELECT id, signer_node_id, seq, counter FROM assertions ORDER BY id'),
    watermarks: all('SELECT * FROM sequence_watermarks ORDER BY 1, 2'),
    files: all('SELECT * FROM files ORDER BY id'),
    contents: all('SELECT * FROM contents ORDER BY id'),
    runs: all('SELECT id, kind, status FROM runs ORDER BY id')
  }
}

/** The same, without the runs (the requester records its own `verify` run, which is no evidence). */
function evidence (n: InProcessNode): Record<string, unknown> {
  const { runs: _runs, ...rest } = written(n)
  return rest
}

/** What laptop's gate says of each file about nas. */
function heldAtNas (laptop: InProcessNode): Record<string, boolean> {
  const volume = laptop.config.volumes.get('photos')!
  const now = Date.now() * 1e6
  const out: Record<string, boolean> = {}
  for (const e of whereIs(laptop.store, laptop.config, volume, parseSelectors(['.'], undefined, now), { offloadedOnly: false, nowNs: now })) {
    out[e.path] = e.held_by.some(x => x.target === 'nas')
  }
  return out
}

/** One raw exchange from `client`: a request frame, then every reply frame up to the final one (at most 1,000). */
async function ask (client: Libp2p, nasRow: NodeRow, frame: Uint8Array): Promise<VerifyReply[]> {
  const stream = await openPeerStream(client, nasRow, VERIFY_PROTOCOL, AbortSignal.timeout(5000))
  const io = framed(stream, MAX_FRAME_BYTES)
  await io.write(frame, 5000)
  const replies: VerifyReply[] = []
  for (let i = 0; i < 1000; i++) {
    const r = decodeVerifyReply(await io.read('a verify reply', MAX_FRAME_BYTES, 5000))
    replies.push(r)
    if (r.done) break
  }
  await stream.close().catch(() => {})
  return replies
}

const request = (r: Partial<VerifyRequest> = {}): Uint8Array => encodeVerifyRequest({ volume: 'photos', sample: 0, ...r })

describe('the verify handler refuses at the edge: a status, no run, nothing read', () => {
  it('refuses REFUSED a live peer it does not share the volume with (never received it from it, not in push_to), and starts no run', async () => {
    const { nas, stranger } = await fleet()
    const before = written(nas)
    const client = await stranger.client()
    const replies = await ask(client, stranger.store.nodes.byNodeId(nas.key.nodeId)!, request())
    expect(replies.map(r => [r.done, r.status, r.envelope, r.run])).toEqual([[true, Status.REFUSED, null, 0]])
    expect(written(nas)).toEqual(before)
    expect(nas.logs.messages()).toContain('refused a verify of a volume this node does not share with the peer')
    expect(nas.logs.messages()).not.toContain('re-reading a volume a peer asked to verify')
  }, 60_000)

  it('answers UNKNOWN_VOLUME for a volume it does not declare, and starts no run', async () => {
    const { laptop, nas, nasRow } = await fleet()
    const before = written(nas)
    const replies = await ask(await laptop.client(), nasRow, request({ volume: 'films' }))
    expect(replies.map(r => [r.status, r.envelope, r.run])).toEqual([[Status.UNKNOWN_VOLUME, null, 0]])
    expect(written(nas)).toEqual(before)
  }, 60_000)

  it.each<[string, Uint8Array, number]>([
    [`a sample of MAX_VERIFY_SAMPLE + 1 (${MAX_VERIFY_SAMPLE + 1})`, request({ sample: MAX_VERIFY_SAMPLE + 1 }), Status.INVALID_REQUEST],
    ['garbage bytes', Uint8Array.from([0xff, 0x13, 0x37, 0x00, 0x42, 0x99]), Status.INVALID_REQUEST],
    ['a volume that is not a volume name', request({ volume: '../photos' }), Status.INVALID_REQUEST],
    ['a non-canonical request (sample written twice)', Uint8Array.from([...request({ sample: 1 }), 0x10, 0x01]), Status.INVALID_REQUEST],
    // protocol/README.md's status table: TOO_LARGE is "a frame ... over a limit"
    ['a request frame over MAX_VERIFY_REQUEST_BYTES', Uint8Array.from([0x0a, 0x81, 0x02, ...new Uint8Array(257).fill(0x61)]), Status.TOO_LARGE]
  ])('refuses %s with a status before any run starts', async (_what, frame, status) => {
    const { laptop, nas, nasRow } = await fleet()
    const before = written(nas)
    const replies = await ask(await laptop.client(), nasRow, frame)
    expect(replies.map(r => [r.status, r.envelope, r.run])).toEqual([[status, null, 0]])
    expect(written(nas)).toEqual(before)
    expect(nas.logs.messages()).not.toContain('re-reading a volume a peer asked to verify')
  }, 60_000)

  it('answers a requester that stalls before its request with no status at all (never TOO_LARGE), and starts no run', async () => {
    const { laptop, nas, nasRow } = await fleet()
    const before = written(nas)
    const stream = await openPeerStream(await laptop.client(), nasRow, VERIFY_PROTOCOL, AbortSignal.timeout(5000))
    const io = framed(stream, MAX_FRAME_BYTES)
    // nothing is sent; nas's frame deadline (2 s here) passes
    const outcome = await io.read('a verify reply', MAX_FRAME_BYTES, 5000).then(b => decodeVerifyReply(b), (err: unknown) => err)
    expect(outcome).toBeInstanceOf(Error)
    stream.abort(new Error('done'))
    expect(written(nas)).toEqual(before)
    expect(nas.logs.messages()).not.toContain('re-reading a volume a peer asked to verify')
  }, 60_000)

  it('still re-reads for the peer it shares the volume with (the refusals above are not a handler that refuses everyone)', async () => {
    const { laptop, nas, nasRow } = await fleet()
    const replies = await ask(await laptop.client(), nasRow, request({ sample: 1 }))
    const last = replies[replies.length - 1]!
    expect(last.status).toBe(Status.OK)
    expect(last.run).toBeGreaterThan(0)
    expect(nas.store.runs.get(last.run)).toMatchObject({ kind: 'index' })
  }, 60_000)
})

type Script = (io: Framed, stream: Stream, request: VerifyRequest, call: number) => Promise<void>

/** Replaces nas's verify handler with `script` (call counts from 1). */
async function hostile (nas: InProcessNode, script: Script): Promise<void> {
  const host = nas.node!.host
  let calls = 0
  await host.unhandle(VERIFY_PROTOCOL)
  await host.handle(VERIFY_PROTOCOL, async (stream: Stream) => {
    const io = framed(stream, MAX_FRAME_BYTES)
    try {
      const req = decodeVerifyRequest(await io.read('a verify request', 256, 5000))
      await script(io, stream, req, ++calls)
      await stream.close().catch(() => {})
    } catch {
      stream.abort(new Error('hostile handler done'))
    }
  })
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

const progress = (checked: number): VerifyReply => ({ done: false, status: 0, message: '', checked, bytesChecked: checked * 10, mismatched: 0, missing: 0, problems: [], envelope: null, run: 0 })
const answer = (envelope: Uint8Array, over: Partial<VerifyReply> = {}): VerifyReply => ({ done: true, status: Status.OK, message: '', checked: 2, bytesChecked: 20_028, mismatched: 0, missing: 0, problems: [], envelope, run: 1, ...over })

describe('the requester writes nothing a hostile verify server did not prove with the dialled peer\'s signature', () => {
  it('fails after the frame deadline against a server that never answers, writing nothing', async () => {
    const { laptop, nas, verify } = await fleet()
    await hostile(nas, async (_io, stream) => {
      // stall: wait (bounded) until the requester gives up and the stream goes away
      for (let i = 0; i < 100 && stream.status === 'open'; i++) await sleep(50)
    })
    const before = evidence(laptop)
    const t0 = Date.now()
    const r = await verify({ frameDeadlineMs: 300 })
    expect(Date.now() - t0).toBeLessThan(4000)
    expect(r.status).toBe('failed')
    expect(r.error).toMatch(/timed out after 300 ms waiting for a verify reply/)
    expect(evidence(laptop)).toEqual(before)
    expect(laptop.store.runs.get(r.runId)).toMatchObject({ kind: 'verify', status: 'failed' })
  }, 60_000)

  it('stops at maxMs with status failed against a server that sends progress frames forever, writing nothing', async () => {
    const { laptop, nas } = await fleet()
    let sent = 0
    await hostile(nas, async (io) => {
      // "forever": until a write fails (the requester closed), at most 30 s
      for (let i = 0; i < 3000; i++) {
        await io.write(encodeVerifyReply(progress(i)), 1000)
        sent++
        await sleep(10)
      }
    })
    const before = evidence(laptop)
    const seen: number[] = []
    const t0 = Date.now()
    const r = await verifyPeer({ store: laptop.store, config: laptop.config, host: laptop.node!.host, volume: laptop.config.volumes.get('photos')!, peer: laptop.store.nodes.byNodeId(nas.key.nodeId)!, sample: 0, logger: laptop.logger, frameDeadlineMs: 2000, maxMs: 500, onProgress: (c) => { seen.push(c) } })
    expect(Date.now() - t0).toBeLessThan(5000)
    expect(r.status).toBe('failed')
    expect(seen.length).toBeGreaterThan(3) // it was reading progress, and stopped anyway
    expect(evidence(laptop)).toEqual(before)
    const at = sent
    await sleep(300)
    expect(sent - at).toBeLessThan(5) // the requester's side of the stream is gone
  }, 60_000)

  it('refuses an answer signed by another enrolled node (not the peer it dialled), writing nothing', async () => {
    const { laptop, nas, stranger, verify } = await fleet()
    await hostile(nas, async (io) => {
      // a well-signed assertion of nas's own holdings for photos, but by stranger's key
      await io.write(encodeVerifyReply(answer(sealLocalAssertion(nas.store, stranger.key, 'photos', nas.logger))), 1000)
    })
    const before = evidence(laptop)
    const r = await verify()
    expect(r.status).toBe('refused')
    expect(r.error).toMatch(/^SignerMismatchError/)
    expect(evidence(laptop)).toEqual(before)
  }, 60_000)

  it('refuses a replayed answer (an assertion it accepted earlier, an older sequence), writing nothing', async () => {
    const { laptop, nas, verify } = await fleet()
    const sealed: Uint8Array[] = []
    await hostile(nas, async (io, _s, _req, call) => {
      if (call <= 2) sealed.push(sealLocalAssertion(nas.store, nas.key, 'photos', nas.logger))
      await io.write(encodeVerifyReply(answer(call <= 2 ? sealed[call - 1]! : sealed[0]!)), 1000)
    })
    expect((await verify()).status).toBe('success') // accepts sequence n
    // nas re-reads its disk, so sequence n + 1 claims younger reads than n: a replay of n would rewind them
    await indexVolume({ store: nas.store, volume: nas.config.volumes.get('photos')!, quick: false, logger: nas.logger })
    const claimedAt = (): unknown => laptop.store.vector.list(laptop.store.volumes.get('photos')!.id).map(c => c.verifiedAtNs)
    const afterFirst = claimedAt()
    expect((await verify()).status).toBe('success') // accepts sequence n + 1
    expect(claimedAt()).not.toEqual(afterFirst)
    const before = evidence(laptop)
    const r = await verify() // sequence n again
    expect(r.status).toBe('refused')
    expect(r.error).toMatch(/^ReplayedAssertionError/)
    expect(evidence(laptop)).toEqual(before)
  }, 60_000)

  it.each<[string, (nas: InProcessNode) => Uint8Array, RegExp]>([
    ['a progress frame carrying an envelope', (nas) => encodeVerifyReply({ ...progress(1), envelope: sealLocalAssertion(nas.store, nas.key, 'photos', nas.logger) }), /InvalidMessage|progress frame/],
    ['a final OK without an envelope', () => encodeVerifyReply({ ...answer(new Uint8Array(0)), envelope: null }), /fresh assertion/],
    ['a final refusal naming a run', () => encodeVerifyReply({ ...answer(new Uint8Array(0)), status: Status.INTERNAL, envelope: null, run: 7 }), /names no run/],
    ['a final OK that reports files found (OK means nothing was)', (nas) => encodeVerifyReply(answer(sealLocalAssertion(nas.store, nas.key, 'photos', nas.logger), { mismatched: 1, missing: 0, problems: [{ path: '2019/01/p1.jpg', kind: VerifyProblemKind.MISMATCHED }] })), /OK verify found nothing/],
    ['a final OK whose envelope is not an envelope', () => encodeVerifyReply(answer(Uint8Array.from([1, 2, 3]))), /./],
    ['garbage', () => Uint8Array.from([0xff, 0xff, 0xff, 0x01]), /./]
  ])('fails on a malformed reply (%s), writing nothing', async (_what, frame, error) => {
    const { laptop, nas, verify } = await fleet()
    await hostile(nas, async (io) => { await io.write(frame(nas), 1000) })
    const before = evidence(laptop)
    const r = await verify()
    expect(['failed', 'refused']).toContain(r.status)
    expect(r.error).toMatch(error)
    expect(evidence(laptop)).toEqual(before)
  }, 60_000)

  it('fails on a reply frame over MAX_FRAME_BYTES, read no further than its length prefix, writing nothing', async () => {
    const { laptop, nas, verify } = await fleet()
    await hostile(nas, async (_io, stream) => {
      // the prefix announces MAX_FRAME_BYTES + 1; only a few body bytes follow
      stream.send(Uint8Array.from([...uvarint(MAX_FRAME_BYTES + 1), 0x08, 0x01, 0x10, 0x01]))
      for (let i = 0; i < 100 && stream.status === 'open'; i++) await sleep(20)
    })
    const before = evidence(laptop)
    const r = await verify()
    expect(r.status).toBe('failed')
    expect(r.error).toMatch(/larger than the limit of 33554432 bytes/)
    expect(evidence(laptop)).toEqual(before)
  }, 60_000)

  it.each([['PARTIAL', Status.PARTIAL, 'failed']] as const)(
    'follows the signed envelope, not the counts: a %s reply claiming two files damaged or gone while the peer\'s signature still claims them retracts nothing',
    async (_name, status, expected) => {
      const { laptop, nas, verify } = await fleet()
      const heldBefore = heldAtNas(laptop)
      expect(Object.values(heldBefore)).toEqual([true, true])
      await hostile(nas, async (io) => {
        const envelope = sealLocalAssertion(nas.store, nas.key, 'photos', nas.logger) // full custody, nothing re-read
        await io.write(encodeVerifyReply(answer(envelope, {
          status,
          mismatched: 1,
          missing: 1,
          problems: [{ path: '2019/01/p1.jpg', kind: VerifyProblemKind.MISMATCHED }, { path: '2019/01/p2.jpg', kind: VerifyProblemKind.MISSING }]
        })), 1000)
      })
      const claims = (): unknown => laptop.store.vector.list(laptop.store.volumes.get('photos')!.id).map(c => [c.destination, c.originNodeId, c.originRunId, c.verifiedAtNs, c.exceptions, c.floorRunId])
      const before = claims()
      const r = await verify()
      expect(r.status).toBe(expected)
      // the counts and paths are reported (and noted as alarms on the run) ...
      expect([r.mismatched, r.missing]).toEqual([1, 1])
      expect(r.problems).toEqual([{ path: '2019/01/p1.jpg', problem: 'mismatched' }, { path: '2019/01/p2.jpg', problem: 'missing' }])
      // ... but custody is what nas signed: every claim as it was, the gate still passes both files
      expect(r.retracted).toBe(0)
      expect(claims()).toEqual(before)
      expect(heldAtNas(laptop)).toEqual(heldBefore)
    }, 60_000)
})
