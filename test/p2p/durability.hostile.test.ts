import type { Libp2p, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { systemClock } from '../../src/clock.js'
import { nodeKeyFromSeed, type NodeKey } from '../../src/identity/node-key.js'
import { createLogger } from '../../src/logger.js'
import { createHost } from '../../src/p2p/host.js'
import { ASSERTION_PAYLOAD_TYPE, sealAssertion } from '../../src/protocol/envelope.js'
import { DURABILITY_PROTOCOL } from '../../src/protocol/ids.js'
import { Status } from '../../src/protocol/messages.js'
import { MAX_INBOUND_DURABILITY_STREAMS } from '../../src/protocol/limits.js'
import { encodeAssertion, encodeDurabilityRequest, encodeDurabilityResponse, encodeEnvelope } from '../../src/protocol/wire.js'
import { pullVolume, type PullReport } from '../../src/pull/pull.js'
import { revokeSource } from '../../src/store/revocation.js'
import type { NodeRow } from '../../src/store/nodes.js'
import { assertion, component, dirComponent, markerFor, signRaw as signRawWith, varintBytes } from '../helpers/assertions.js'
import { enroll, inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'
import { snapshotEvidence } from '../helpers/vector.js'

/**
 * A hostile, enrolled peer ("nas") talking /cairn/durability/1.0.0 to a serving node
 * ("laptop"). Every case ends with: nothing was written to laptop's evidence, and laptop still
 * serves a good peer.
 */

const PULL_TIMEOUT_MS = 800
const HANDLER_DEADLINE_MS = 600
const VOLUME_TOML = (root: string): string => `[volumes.photos]\npath = "${root}/photos"\noffload_requires = ["nas", "nas/offsite", "nas/good"]\n`

type Responder = (stream: Stream, request: Uint8Array) => Promise<void>

const te = new TextEncoder()
const hostileKey: NodeKey = nodeKeyFromSeed(new Uint8Array(32).fill(0x66))
const revokedKey: NodeKey = nodeKeyFromSeed(new Uint8Array(32).fill(0x67))

const varint = varintBytes

function signRaw (payload: Uint8Array, key: NodeKey = hostileKey): Uint8Array {
  return signRawWith(payload, key)
}

function ok (envelope: Uint8Array): Uint8Array {
  return encodeDurabilityResponse({ status: Status.OK, envelope, message: '' })
}

async function sendFramed (stream: Stream, frame: Uint8Array): Promise<void> {
  await lpStream(stream).write(frame)
  await stream.close()
}

async function sendRaw (stream: Stream, bytes: Uint8Array, thenWaitMs = 0): Promise<void> {
  stream.send(bytes)
  if (thenWaitMs > 0) await new Promise(resolve => setTimeout(resolve, thenWaitMs))
  await stream.close().catch(() => {})
}

describe('durability protocol against a hostile peer', () => {
  let root: string
  let laptop: InProcessNode
  let good: InProcessNode
  let hostile: Libp2p
  let nasRow: NodeRow
  let respond: Responder = async () => {}
  let before = ''
  let seq = 1_000

  const nextSeq = (): number => ++seq
  const now = (): number => systemClock.nowNs()
  const laptopId = (): NodeKey['nodeId'] => laptop.key.nodeId
  /** A claim by `key`'s node about a directory it owns and labels `label`, covering laptop's origin through `run`. */
  const dirClaim = (key: NodeKey, label: string, run: number, overrides: Parameters<typeof component>[3] = {}): ReturnType<typeof component> =>
    dirComponent(label, key.nodeId, laptopId(), run, overrides)

  beforeAll(async () => {
    root = tempDir('cairn-hostile-')
    laptop = inProcessNode(root, 'laptop', VOLUME_TOML(root))
    good = inProcessNode(root, 'good', VOLUME_TOML(root).replace('"good"]', '"laptop"]'))
    await laptop.start({ durabilityDeadlineMs: HANDLER_DEADLINE_MS, pullTimeoutMs: PULL_TIMEOUT_MS })
    await good.start()
    hostile = await createHost({ key: hostileKey, listen: ['/ip4/127.0.0.1/tcp/0'], gate: { allows: () => true }, logger: createLogger([], systemClock) })
    await hostile.handle(DURABILITY_PROTOCOL, async (stream) => {
      const request = (await lpStream(stream).read()).subarray()
      await respond(stream, request).catch(() => {})
    })
    await hostile.start()
    enroll(laptop, good)
    enroll(good, laptop)
    nasRow = laptop.store.nodes.enrollPeer(hostileKey.nodeId, 'nas', hostile.getMultiaddrs().map(a => a.toString().replace(/\/p2p\/.*$/, '')))
    const revoked = laptop.store.nodes.enrollPeer(revokedKey.nodeId, 'oldnas', [])
    revokeSource(laptop.store, revoked.id)
    // some local evidence worth protecting, at laptop's own directory that it too labels "offsite"
    // (its own marker: nas's "offsite" is another directory)
    const vol = laptop.store.volumes.ensure('photos', `${root}/photos`)
    const own = laptop.store.destinations.recordLocal(laptop.store.nodes.self().id, 'offsite', markerFor('laptop-offsite')).key
    const run = laptop.store.runs.begin({ kind: 'push', volumeId: vol.id, destination: 'offsite' })
    laptop.store.vector.advanceLocal(vol.id, own, 'sha256-readback', [{ originNodeId: laptop.store.nodes.self().id, originRunId: 4 }], run.id)
    laptop.store.runs.finish(run.id, 'success')
  })

  afterAll(async () => {
    await hostile.stop()
    await good.close()
    await laptop.close()
  })

  async function pullFromNas (): Promise<PullReport> {
    before = snapshotEvidence(laptop.store)
    return await pullVolume({ store: laptop.store, config: laptop.config, host: laptop.node!.host, peer: nasRow, volume: 'photos', allowRewind: false, logger: laptop.logger, timeoutMs: PULL_TIMEOUT_MS })
  }

  afterEach(async () => {
    // nothing was written …
    if (before !== '') expect(snapshotEvidence(laptop.store)).toBe(before)
    before = ''
    // … and laptop still serves others
    const peer = good.store.nodes.byNodeId(laptop.key.nodeId)!
    const report = await pullVolume({ store: good.store, config: good.config, host: good.node!.host, peer, volume: 'photos', allowRewind: false, logger: good.logger })
    expect(report.status).toBe('success')
    expect(report.fetched).toBeGreaterThan(0)
  })

  it('refuses garbage bytes instead of a response', async () => {
    respond = async (s) => { await sendRaw(s, Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01])) }
    expect(await pullFromNas()).toMatchObject({ status: 'failed' })
  })

  it('refuses a truncated frame', async () => {
    respond = async (s) => { await sendRaw(s, Uint8Array.from([...varint(100), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])) }
    expect(await pullFromNas()).toMatchObject({ status: 'failed' })
  })

  it('refuses an oversize length prefix from the prefix alone', async () => {
    respond = async (s) => { await sendRaw(s, Uint8Array.from([...varint(1 << 30), 1, 2, 3]), 2000) }
    const t = performance.now()
    const r = await pullFromNas()
    expect(r.status).toBe('failed')
    expect(r.error).toMatch(/larger than the limit/)
    expect(performance.now() - t).toBeLessThan(PULL_TIMEOUT_MS + 500)
  })

  it('gives up on a peer that stalls mid-frame once the deadline fires', async () => {
    respond = async (s) => { await sendRaw(s, Uint8Array.from([...varint(100), 1, 2, 3]), 5000) }
    const t = performance.now()
    const r = await pullFromNas()
    expect(r.status).toBe('failed')
    expect(r.error).toMatch(/timed out/)
    expect(performance.now() - t).toBeLessThan(PULL_TIMEOUT_MS + 1000)
  })

  it('refuses a forged signature', async () => {
    respond = async (s) => {
      const payload = encodeAssertion(assertion(hostileKey.nodeId, { counter: nextSeq(), issuedAtNs: now(), components: [component(hostileKey.nodeId, laptopId(), 9, { verifyMethod: 'peer-sha256' })] }))
      const env = encodeEnvelope({ publicKey: hostileKey.publicKey, payloadType: te.encode(ASSERTION_PAYLOAD_TYPE), payload, signature: revokedKey.sign(payload) })
      await sendFramed(s, ok(env))
    }
    expect(await pullFromNas()).toMatchObject({ status: 'refused', error: expect.stringMatching(/^InvalidSignatureError/) })
  })

  it('refuses a valid envelope signed by another enrolled peer', async () => {
    respond = async (s) => { await sendFramed(s, ok(sealAssertion(good.key, assertion(good.key.nodeId, { counter: nextSeq(), issuedAtNs: now(), components: [dirClaim(good.key, 'offsite', 50)] })))) }
    expect(await pullFromNas()).toMatchObject({ status: 'refused', error: expect.stringMatching(/^SignerMismatchError/) })
  })

  it('refuses a replayed sequence', async () => {
    const first = sealAssertion(hostileKey, assertion(hostileKey.nodeId, { counter: 5_000, issuedAtNs: now(), components: [dirClaim(hostileKey, 'offsite', 4, { verifiedAtNs: now() - 1e9 })] }))
    respond = async (s) => { await sendFramed(s, ok(first)) }
    const accepted = await pullVolume({ store: laptop.store, config: laptop.config, host: laptop.node!.host, peer: nasRow, volume: 'photos', allowRewind: false, logger: laptop.logger })
    expect(accepted.status).toBe('success')
    respond = async (s) => { await sendFramed(s, ok(sealAssertion(hostileKey, assertion(hostileKey.nodeId, { counter: 4_000, issuedAtNs: now(), components: [dirClaim(hostileKey, 'offsite', 99)] })))) }
    expect(await pullFromNas()).toMatchObject({ status: 'refused', error: expect.stringMatching(/^ReplayedAssertionError/) })
    seq = 6_000
  })

  it('refuses an unknown verify method', async () => {
    respond = async (s) => {
      const bytes = encodeAssertion(assertion(hostileKey.nodeId, { counter: nextSeq(), issuedAtNs: now(), components: [dirClaim(hostileKey, 'offsite', 77, { verifiedAtNs: null })] }))
      const at = bytes.findIndex((b, i) => b === ((4 << 3) | 0) && bytes[i + 1] === 1)
      const patched = Uint8Array.from(bytes)
      patched[at + 1] = 9
      await sendFramed(s, ok(signRaw(patched)))
    }
    expect(await pullFromNas()).toMatchObject({ status: 'refused', error: expect.stringMatching(/verify_method/) })
  })

  it('refuses a negative run', async () => {
    respond = async (s) => {
      const bytes = encodeAssertion(assertion(hostileKey.nodeId, { counter: nextSeq(), issuedAtNs: now(), components: [dirClaim(hostileKey, 'offsite', 5, { verifiedAtNs: null })] }))
      const at = bytes.findIndex((b, i) => b === ((3 << 3) | 0) && bytes[i + 1] === 5)
      const before = Array.from(bytes.subarray(0, at + 1))
      const compAt = before.lastIndexOf((7 << 3) | 2)
      before[compAt + 1] = (before[compAt + 1] ?? 0) + 9
      await sendFramed(s, ok(signRaw(Uint8Array.from([...before, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, ...bytes.subarray(at + 2)]))))
    }
    expect(await pullFromNas()).toMatchObject({ status: 'refused', error: expect.stringMatching(/^InvalidMessageError/) })
  })

  it('refuses a million empty components', async () => {
    respond = async (s) => {
      const head = encodeAssertion(assertion(hostileKey.nodeId, { counter: nextSeq(), issuedAtNs: now() }))
      const body = new Uint8Array(1_000_000 * 2)
      for (let i = 0; i < body.length; i += 2) body[i] = (7 << 3) | 2
      const payload = new Uint8Array(head.length + body.length)
      payload.set(head)
      payload.set(body, head.length)
      await sendFramed(s, ok(signRaw(payload)))
    }
    expect(await pullFromNas()).toMatchObject({ status: 'refused', error: expect.stringMatching(/^InvalidMessageError/) })
  })

  it('refuses a response for a different volume', async () => {
    respond = async (s) => { await sendFramed(s, ok(sealAssertion(hostileKey, assertion(hostileKey.nodeId, { volume: 'music', counter: nextSeq(), issuedAtNs: now(), components: [dirClaim(hostileKey, 'offsite', 60)] })))) }
    expect(await pullFromNas()).toMatchObject({ status: 'refused', error: expect.stringMatching(/^AssertionContextError/) })
  })

  it('refuses an assertion signed by a revoked key', async () => {
    respond = async (s) => { await sendFramed(s, ok(sealAssertion(revokedKey, assertion(revokedKey.nodeId, { counter: nextSeq(), issuedAtNs: now(), components: [dirClaim(revokedKey, 'offsite', 60)] })))) }
    expect(await pullFromNas()).toMatchObject({ status: 'refused', error: expect.stringMatching(/^PeerRevokedError/) })
  })

  it('refuses the whole pull when it would create 257 new origins', async () => {
    respond = async (s) => {
      const origins = Array.from({ length: 257 }, (_, i) => nodeKeyFromSeed(Uint8Array.from({ length: 32 }, (_, j) => j === 0 ? i & 0xff : j === 1 ? i >> 8 : 0xa5)).nodeId)
      await sendFramed(s, ok(sealAssertion(hostileKey, assertion(hostileKey.nodeId, { counter: nextSeq(), issuedAtNs: now(), components: origins.map(o => dirComponent('offsite', hostileKey.nodeId, o, 1)) }))))
    }
    expect(await pullFromNas()).toMatchObject({ status: 'refused', error: expect.stringMatching(/^TooManyOriginsError/) })
  })

  it('leaves the database exactly as before when one component anywhere is invalid', async () => {
    respond = async (s) => {
      const valid = [dirClaim(hostileKey, 'offsite', 70), dirClaim(hostileKey, 'good', 70)]
      const bytes = encodeAssertion(assertion(hostileKey.nodeId, { counter: nextSeq(), issuedAtNs: now(), components: [...valid, component(hostileKey.nodeId, laptopId(), 70, { verifyMethod: 'presence+size' })] }))
      // the last component's method becomes unknown (3 → 9): the only presence+size, so the last tag 4 followed by 3
      const methodTag = (4 << 3) | 0
      let at = -1
      for (let i = bytes.length - 2; i >= 0 && at < 0; i--) if (bytes[i] === methodTag && bytes[i + 1] === 3) at = i + 1
      const patched = Uint8Array.from(bytes)
      patched[at] = 9
      await sendFramed(s, ok(signRaw(patched)))
    }
    expect(await pullFromNas()).toMatchObject({ status: 'refused', error: expect.stringMatching(/components\[2\]\.verify_method/) })
  })

  describe('inbound', () => {
    async function openToLaptop (): Promise<Stream> {
      return await hostile.dialProtocol(multiaddr(`${laptop.node!.addrs()[0] ?? ''}/p2p/${laptop.key.nodeId}`), DURABILITY_PROTOCOL)
    }

    it('answers garbage request bytes with INVALID_REQUEST or a reset, and writes nothing', async () => {
      before = snapshotEvidence(laptop.store)
      const s = await openToLaptop()
      await lpStream(s).write(Uint8Array.from([0xff, 0xff, 0xff, 0x07]))
      const reply = await lpStream(s).read({ signal: AbortSignal.timeout(2000) }).catch((e: Error) => e)
      expect(reply instanceof Error || reply.byteLength > 0).toBe(true)
    })

    it('refuses an oversize request from its length prefix', async () => {
      before = snapshotEvidence(laptop.store)
      const s = await openToLaptop()
      s.send(Uint8Array.from([...varint(1 << 20), 1, 2, 3]))
      const reply = await lpStream(s).read({ signal: AbortSignal.timeout(2000) }).then(() => 'answered', () => 'reset')
      expect(reply).toBe('reset')
    })

    it('drops a request that stalls mid-frame once its deadline fires', async () => {
      before = snapshotEvidence(laptop.store)
      const s = await openToLaptop()
      s.send(Uint8Array.from([...varint(50), 1, 2]))
      const t = performance.now()
      const outcome = await lpStream(s).read({ signal: AbortSignal.timeout(HANDLER_DEADLINE_MS * 5) }).then(() => 'answered', (e: Error) => e.name)
      expect(outcome).not.toBe('answered')
      expect(performance.now() - t).toBeLessThan(HANDLER_DEADLINE_MS * 4)
    })

    async function validRequest (): Promise<string> {
      try {
        const s = await openToLaptop()
        await lpStream(s).write(encodeDurabilityRequest({ volume: 'photos' }))
        const reply = await lpStream(s).read({ signal: AbortSignal.timeout(3000) })
        return reply.byteLength > 0 ? 'answered' : 'empty'
      } catch (err) {
        return (err as Error).name
      }
    }

    it('bounds a flood of streams to MAX_INBOUND_DURABILITY_STREAMS, recovers after the deadline, and keeps serving others', async () => {
      before = snapshotEvidence(laptop.store)
      await new Promise(resolve => setTimeout(resolve, HANDLER_DEADLINE_MS + 200))
      expect(await validRequest()).toBe('answered')
      const logsBefore = laptop.logs.records.length
      // each stream's life is timed from the moment its open resolved: opening 40 streams at
      // once can itself take longer than the threshold on a loaded machine, which says
      // nothing about how the handler treats them
      const lived = await Promise.all(Array.from({ length: 40 }, async () => {
        let opened: number | undefined
        try {
          const s = await openToLaptop()
          opened = performance.now()
          s.send(Uint8Array.from([...varint(50), 1]))
          await lpStream(s).read({ signal: AbortSignal.timeout(HANDLER_DEADLINE_MS * 3) })
        } catch {}
        return opened === undefined ? 0 : performance.now() - opened
      }))
      // streams over the limit are reset at once; only the admitted ones wait for the deadline
      const fast = lived.filter(ms => ms < HANDLER_DEADLINE_MS / 2).length
      const slow = lived.filter(ms => ms >= HANDLER_DEADLINE_MS / 2).length
      expect(fast).toBeGreaterThanOrEqual(40 - MAX_INBOUND_DURABILITY_STREAMS)
      expect(slow).toBeLessThanOrEqual(MAX_INBOUND_DURABILITY_STREAMS)
      // once the stalled streams hit their deadline, the same peer is served again
      await new Promise(resolve => setTimeout(resolve, HANDLER_DEADLINE_MS + 200))
      // on the serving side, whatever the machine's load: only admitted streams reached the
      // handler, and each gave up on its stalled request at the deadline
      const stalled = laptop.logs.records.slice(logsBefore).filter(r => r.msg === 'refused an invalid durability request').length
      expect(stalled).toBeGreaterThanOrEqual(1)
      expect(stalled).toBeLessThanOrEqual(MAX_INBOUND_DURABILITY_STREAMS)
      expect(await validRequest()).toBe('answered')
    })
  })
})

describe('connection gate', () => {
  it('refuses a node that is not enrolled before any protocol runs, and logs it once', async () => {
    const root = tempDir('cairn-gate-')
    const laptop = inProcessNode(root, 'laptop', VOLUME_TOML(root))
    await laptop.start()
    const stranger = await createHost({ key: nodeKeyFromSeed(new Uint8Array(32).fill(0x99)), listen: [], gate: { allows: () => true }, logger: createLogger([], systemClock) })
    await stranger.start()
    const target = multiaddr(`${laptop.node!.addrs()[0] ?? ''}/p2p/${laptop.key.nodeId}`)
    for (let i = 0; i < 3; i++) {
      await expect(stranger.dialProtocol(target, DURABILITY_PROTOCOL).then(async (s) => {
        await lpStream(s).write(encodeDurabilityRequest({ volume: 'photos' }))
        return await lpStream(s).read({ signal: AbortSignal.timeout(2000) })
      })).rejects.toThrow()
    }
    await new Promise(resolve => setTimeout(resolve, 100))
    expect(laptop.logs.records.filter(r => r.msg.startsWith('refused a connection')).length).toBe(1)
    expect(laptop.store.runs.list()).toEqual([])
    await stranger.stop()
    await laptop.close()
  })
})
