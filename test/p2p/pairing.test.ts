import { afterAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { ManualClock, NS_PER_SECOND } from '../../src/clock.js'
import { createLogger, MemorySink } from '../../src/logger.js'
import { classifyDialFailure, describeExchangeFailure } from '../../src/p2p/dial-failure.js'
import { PeerStatusError } from '../../src/errors.js'
import { knockRecorder, KNOCK_WRITE_INTERVAL_MS, KNOCK_WRITES_PER_SECOND } from '../../src/p2p/knocks.js'
import { MAX_PENDING_PEERS } from '../../src/store/pending-peers.js'
import { pullVolume } from '../../src/pull/pull.js'
import { inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { memoryStore, tempDir } from '../helpers/store.js'

const volumeToml = (root: string, name: string): string => `[volumes.photos]\npath = ${JSON.stringify(join(root, `${name}-photos`))}\n`

describe('pairing that explains itself', () => {
  const root = tempDir('cairn-pairing-')
  const nodes: InProcessNode[] = []
  afterAll(async () => { for (const n of nodes) await n.close() })

  it('a one-sided pairing is recorded as a knock on the refusing node, and the dialer is told what to run there', async () => {
    const laptop = inProcessNode(root, 'laptop', volumeToml(root, 'laptop'))
    const nas = inProcessNode(root, 'nas', volumeToml(root, 'nas'))
    nodes.push(laptop, nas)
    const served = await nas.start()
    // laptop enrolls nas; nas has not enrolled laptop
    laptop.store.nodes.enrollPeer(nas.key.nodeId, 'nas', served.addrs())
    const host = await laptop.client()
    const peer = laptop.store.nodes.livePeerByName('nas')
    if (peer === undefined) throw new Error('nas not enrolled')
    const report = await pullVolume({ store: laptop.store, config: laptop.config, host, peer, volume: 'photos', allowRewind: false, logger: laptop.logger, timeoutMs: 5000 })
    expect(report.status).toBe('failed')
    expect(report.error).toContain('nas refused this node: it is probably not enrolled there; on nas run `cairn peer add laptop <this node\'s invite>`')
    expect(report.error).not.toMatch(/\[object|UnexpectedEOF|Error:/)

    const knocks = nas.store.pendingPeers.list()
    expect(knocks.map(k => k.nodeId)).toEqual([laptop.key.nodeId])
    expect(knocks[0]?.attempts).toBeGreaterThanOrEqual(1)
    expect(knocks[0]?.addrs[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/)
    // nothing was enrolled by the knock
    expect(nas.store.nodes.isLivePeer(laptop.key.nodeId)).toBe(false)
    // nas knows laptop only as a knock: no node row, no contact
    expect(nas.store.nodes.byNodeId(laptop.key.nodeId)).toBeUndefined()

    // the operator enrolls it: the knock is gone, the pull works, both sides saw each other
    nas.store.nodes.enrollPeer(laptop.key.nodeId, 'laptop', [])
    expect(nas.store.pendingPeers.list()).toEqual([])
    const again = await pullVolume({ store: laptop.store, config: laptop.config, host, peer, volume: 'photos', allowRewind: false, logger: laptop.logger, timeoutMs: 5000 })
    expect(again.error).toBeNull()
    expect(laptop.store.nodes.byNodeId(nas.key.nodeId)?.lastSeenNs).toBeGreaterThan(0)
    expect(nas.store.nodes.byNodeId(laptop.key.nodeId)?.lastSeenNs).toBeGreaterThan(0)
  })

  it('a different key at the pinned address, and nothing listening, each get their own plain reason', async () => {
    const laptop = inProcessNode(root, 'laptop2', volumeToml(root, 'laptop2'))
    const impostor = inProcessNode(root, 'impostor', volumeToml(root, 'impostor'))
    const nas = inProcessNode(root, 'nas2', volumeToml(root, 'nas2'))
    nodes.push(laptop, impostor, nas)
    const served = await impostor.start()
    impostor.store.nodes.enrollPeer(laptop.key.nodeId, 'laptop2', [])
    laptop.store.nodes.enrollPeer(nas.key.nodeId, 'nas2', served.addrs())
    const host = await laptop.client()
    const peer = laptop.store.nodes.livePeerByName('nas2')
    if (peer === undefined) throw new Error('nas2 not enrolled')
    const wrong = await pullVolume({ store: laptop.store, config: laptop.config, host, peer, volume: 'photos', allowRewind: false, logger: laptop.logger, timeoutMs: 5000 })
    expect(wrong.error).toContain('a different node answers at that address (not nas2\'s key)')
    const addr = served.addrs()[0] ?? ''
    await impostor.node?.stop()
    const down = await pullVolume({ store: laptop.store, config: laptop.config, host, peer, volume: 'photos', allowRewind: false, logger: laptop.logger, timeoutMs: 5000 })
    expect(down.error).toBe(`cannot reach nas2 at ${addr}: nothing listens there (is \`cairn serve\` running on it?)`)
  })

  it('turns libp2p error shapes (a bare Event, an AggregateError, an unknown error) into one plain line', () => {
    const event = classifyDialFailure(new Event('error'), 'nas', 'laptop', false)
    expect(event.reason).not.toContain('[object')
    // what a real one-sided pairing gives the dialer: a bare 'close' Event, the issue's "[object Event]"
    expect(classifyDialFailure(new Event('close'), 'nas', 'laptop', false).kind).toBe('refused-by-peer')
    const agg = classifyDialFailure(new AggregateError([Object.assign(new Error('connect ECONNREFUSED 10.0.0.2:4701'), { code: 'ECONNREFUSED' })], 'All promises were rejected'), 'nas', 'laptop', false)
    expect(agg.kind).toBe('not-listening')
    const long = classifyDialFailure(new Error('x'.repeat(500) + '\n    at stack'), 'nas', 'laptop', false)
    expect(long.reason).toBe('the connection failed')
    expect(classifyDialFailure(new Error('whatever'), 'nas', 'laptop', true).kind).toBe('timed-out')
  })

  it('an exchange cut short by libp2p reads as words; cairn\'s own refusals keep their message', () => {
    const reset = Object.assign(new Error('The stream has been reset'), { name: 'StreamResetError' })
    expect(describeExchangeFailure(reset, 'nas')).toBe('nas closed the connection mid-exchange (it stopped or restarted, or no longer accepts this node)')
    expect(describeExchangeFailure(Object.assign(new Error('Unexpected EOF - stream closed while reading 0/1 bytes'), { name: 'UnexpectedEOFError' }), 'nas')).toContain('nas closed the connection')
    expect(describeExchangeFailure(new Event('abort'), 'nas')).not.toContain('[object')
    const own = new PeerStatusError('nas', 'UNKNOWN_VOLUME', 'no volume photos here')
    expect(describeExchangeFailure(own, 'nas')).toBe(own.message)
  })
})

describe('knocks are bounded', () => {
  it('records a flood from one node id as one row whose attempts count the knocks, written at most once per interval', () => {
    const clock = new ManualClock()
    const { store } = memoryStore({ clock })
    const rec = knockRecorder(store.pendingPeers, clock, createLogger([], clock))
    let writes = 0
    const record = store.pendingPeers.record.bind(store.pendingPeers)
    store.pendingPeers.record = (...args) => { writes++; record(...args) }
    for (let i = 0; i < 1000; i++) rec.knocked('12D3KooWflood', '/ip4/10.0.0.9/tcp/5000')
    expect(writes).toBe(1)
    expect(store.pendingPeers.get('12D3KooWflood')?.attempts).toBe(1)
    clock.advanceNs(KNOCK_WRITE_INTERVAL_MS * 1e6)
    rec.knocked('12D3KooWflood', '/ip4/10.0.0.9/tcp/5001')
    expect(writes).toBe(2)
    expect(store.pendingPeers.get('12D3KooWflood')).toMatchObject({ attempts: 1001, addrs: ['/ip4/10.0.0.9/tcp/5001', '/ip4/10.0.0.9/tcp/5000'] })
  })

  it('writes at most KNOCK_WRITES_PER_SECOND new knocks a second, and logs what it dropped', () => {
    const clock = new ManualClock()
    const { store } = memoryStore({ clock })
    const sink = new MemorySink()
    const rec = knockRecorder(store.pendingPeers, clock, createLogger([sink], clock))
    for (let i = 0; i < 500; i++) rec.knocked(`12D3KooWid${i}`, undefined)
    expect(store.pendingPeers.list()).toHaveLength(KNOCK_WRITES_PER_SECOND)
    clock.advanceNs(NS_PER_SECOND)
    rec.knocked('12D3KooWlater', undefined)
    expect(store.pendingPeers.list()).toHaveLength(KNOCK_WRITES_PER_SECOND + 1)
    expect(sink.records.some(r => r.msg.includes('some knocks were not recorded') && r.fields.dropped === 500 - KNOCK_WRITES_PER_SECOND)).toBe(true)
  })

  it('keeps at most MAX_PENDING_PEERS rows, evicting the least recently seen, and refuses to move a row back in time', () => {
    const clock = new ManualClock()
    const { store } = memoryStore({ clock })
    for (let i = 0; i < MAX_PENDING_PEERS + 25; i++) {
      clock.advanceNs(NS_PER_SECOND)
      store.pendingPeers.record(`12D3KooWrow${i}`, `/ip4/10.0.0.${i % 250}/tcp/1`)
    }
    const rows = store.pendingPeers.list()
    expect(rows).toHaveLength(MAX_PENDING_PEERS)
    expect(rows.some(r => r.nodeId === '12D3KooWrow0')).toBe(false)
    expect(rows[0]?.nodeId).toBe(`12D3KooWrow${MAX_PENDING_PEERS + 24}`)
    expect(() => store.db.prepare('UPDATE pending_peers SET last_seen_ns = 0 WHERE node_id = ?').run(`12D3KooWrow${MAX_PENDING_PEERS + 24}`)).toThrow(/only move forward/)
    // an address too long to be real is not stored
    store.pendingPeers.record('12D3KooWlong', 'x'.repeat(300))
    expect(store.pendingPeers.get('12D3KooWlong')?.addrs).toEqual([])
  })
})
