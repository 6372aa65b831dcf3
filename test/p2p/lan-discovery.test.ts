/**
 * LAN discovery with injected announcements (no multicast): in-process nodes with real stores
 * and real libp2p hosts on 127.0.0.1. laptop has nas enrolled at a dead port; an announcement
 * is only anyone's word, so an address is written only after laptop holds an authenticated
 * connection to nas's pinned key at it.
 */
import { mkdirSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import type { Libp2p } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock, NS_PER_MS, systemClock } from '../../src/clock.js'
import { generateSeed, nodeKeyFromSeed } from '../../src/identity/node-key.js'
import { createLogger, MemorySink } from '../../src/logger.js'
import { MAX_ANNOUNCED_ADDRS_DIALLED } from '../../src/p2p/announced-addrs.js'
import { AnnouncementFeed, lanDiscovery, type LanDiscovery, type LanDiscoveryInit } from '../../src/p2p/lan-discovery.js'
import { pullVolume } from '../../src/pull/pull.js'
import { inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'

/** A 127.0.0.1 port nobody listens on (bound, then released). */
async function deadPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>(resolve => server.close(() => { resolve() }))
  return port
}

async function until (check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

const LEARNED = 'learned a new address for nas on the LAN'
const root = tempDir('cairn-lan-discovery-')
let nas: InProcessNode
let impostor: InProcessNode
let nasAddr: string
let impostorAddr: string
const opened: InProcessNode[] = []
let laptops = 0

/** A fresh laptop that serves, with nas enrolled at a dead port (and enrolled on nas). */
async function laptopWithStaleNas (overrides: Parameters<InProcessNode['start']>[0] = {}): Promise<{ laptop: InProcessNode, stale: string }> {
  const name = `laptop${++laptops}`
  const laptop = inProcessNode(root, name, `[volumes.photos]\npath = "${join(root, name, 'photos')}"\n`)
  opened.push(laptop)
  await laptop.initVolumes()
  await laptop.start(overrides)
  const stale = `/ip4/127.0.0.1/tcp/${await deadPort()}`
  laptop.store.nodes.enrollPeer(nas.key.nodeId, 'nas', [stale])
  nas.store.nodes.enrollPeer(laptop.key.nodeId, name, [])
  return { laptop, stale }
}

/** LAN discovery over laptop's host, counting the dials it makes. */
function countingDiscovery (laptop: InProcessNode, init: LanDiscoveryInit = {}, clock = new ManualClock()) {
  const feed = new AnnouncementFeed()
  const logs = new MemorySink()
  const host = laptop.node!.host
  const dials: string[] = []
  const counting: Pick<Libp2p, 'dial' | 'getConnections'> = {
    dial: async (target, options) => { dials.push(String(target)); return await host.dial(target, options) },
    getConnections: (peer) => host.getConnections(peer)
  }
  const lan: LanDiscovery = lanDiscovery(init)({ source: feed, nodes: laptop.store.nodes, host: counting, clock, logger: createLogger([logs], clock) })
  lan.start()
  return { feed, lan, dials, logs, clock }
}

const nasAddrs = (laptop: InProcessNode): string[] => laptop.store.nodes.byNodeId(nas.key.nodeId)!.addrs

beforeAll(async () => {
  nas = inProcessNode(root, 'nas', `[volumes.photos]\npath = "${join(root, 'nas-photos')}"\n`)
  impostor = inProcessNode(root, 'impostor')
  await nas.initVolumes()
  await nas.start()
  await impostor.start()
  nasAddr = nas.node!.addrs()[0]!
  impostorAddr = impostor.node!.addrs()[0]!
  mkdirSync(root, { recursive: true })
})

afterAll(async () => {
  for (const n of [...opened, nas, impostor]) await n.close()
})

describe('LAN discovery', () => {
  it('records an announced address first only after an authenticated connection to the pinned key, and a pull then reaches the peer', async () => {
    const feed = new AnnouncementFeed()
    const { laptop, stale } = await laptopWithStaleNas({ discovery: feed })
    const client = await laptop.client()
    const pull = async () => await pullVolume({ store: laptop.store, config: laptop.config, host: client, peer: laptop.store.nodes.byNodeId(nas.key.nodeId)!, volume: 'photos', allowRewind: false, logger: laptop.logger })
    expect((await pull()).status).not.toBe('success')

    // the first announced address is dead too: the one recorded is the one that authenticated
    const alsoDead = `/ip4/127.0.0.1/tcp/${await deadPort()}`
    feed.emit({ nodeId: nas.key.nodeId, addrs: [alsoDead, `${nasAddr}/p2p/${nas.key.nodeId}`] })
    await until(() => nasAddrs(laptop)[0] === nasAddr)
    expect(nasAddrs(laptop)).toEqual([nasAddr, stale])
    expect(laptop.logs.messages('info').filter(m => m === LEARNED)).toHaveLength(1)
    expect(laptop.logs.records.find(r => r.msg === LEARNED)?.fields).toMatchObject({ peer: 'nas', addr: nasAddr })

    // a fresh host dials the stored addresses, so the pull proves the learned one works
    const report = await pull()
    expect(report.status).toBe('success')

    // the same announcement again changes nothing and logs nothing
    feed.emit({ nodeId: nas.key.nodeId, addrs: [nasAddr] })
    await new Promise(resolve => setTimeout(resolve, 100))
    expect(nasAddrs(laptop)).toEqual([nasAddr, stale])
    expect(laptop.logs.messages('info').filter(m => m === LEARNED)).toHaveLength(1)
  })

  it('writes nothing and enrolls nothing for an announcement of a node that is not enrolled', async () => {
    const { laptop, stale } = await laptopWithStaleNas()
    const { feed, lan, dials, logs } = countingDiscovery(laptop)
    const peersBefore = laptop.store.nodes.listPeers()
    for (let i = 0; i < 50; i++) feed.emit({ nodeId: impostor.key.nodeId, addrs: [impostorAddr] })
    await lan.settled()
    expect(dials).toEqual([])
    expect(laptop.store.nodes.byNodeId(impostor.key.nodeId)).toBeUndefined()
    expect(laptop.store.nodes.listPeers()).toEqual(peersBefore)
    expect(nasAddrs(laptop)).toEqual([stale])
    // logged once at debug, not once per packet
    expect(logs.records.map(r => r.level)).toEqual(['debug'])
    await lan.stop()
  })

  it('writes nothing when a different key answers at the announced address (an impostor claiming nas\'s id)', async () => {
    const { laptop, stale } = await laptopWithStaleNas()
    const { feed, lan, dials, logs } = countingDiscovery(laptop)
    feed.emit({ nodeId: nas.key.nodeId, addrs: [impostorAddr] })
    await lan.settled()
    expect(dials).toEqual([`${impostorAddr}/p2p/${nas.key.nodeId}`])
    expect(nasAddrs(laptop)).toEqual([stale])
    expect(logs.messages('info')).toEqual([])
    expect(laptop.node!.host.getConnections(peerIdFromString(impostor.key.nodeId))).toEqual([])
    await lan.stop()
  })

  it('writes nothing and dials nothing for a revoked peer\'s announcement', async () => {
    const { laptop, stale } = await laptopWithStaleNas()
    const { feed, lan, dials, logs } = countingDiscovery(laptop)
    laptop.store.nodes.markRevoked(laptop.store.nodes.byNodeId(nas.key.nodeId)!.id)
    feed.emit({ nodeId: nas.key.nodeId, addrs: [nasAddr] })
    await lan.settled()
    expect(dials).toEqual([])
    expect(nasAddrs(laptop)).toEqual([stale])
    expect(logs.messages('info')).toEqual([])
    await lan.stop()
  })

  it('records the listen address it dialled, never the ephemeral port of an inbound connection from the peer', async () => {
    const { laptop, stale } = await laptopWithStaleNas()
    // nas dials laptop: laptop now holds an inbound connection from nas at an ephemeral port
    await nas.node!.host.dial(multiaddr(`${laptop.node!.addrs()[0]!}/p2p/${laptop.key.nodeId}`))
    const toNas = () => laptop.node!.host.getConnections(peerIdFromString(nas.key.nodeId))
    await until(() => toNas().length > 0)
    const inbound = toNas()
    expect(inbound.map(c => c.direction)).toEqual(['inbound'])
    const { feed, lan, dials } = countingDiscovery(laptop)
    feed.emit({ nodeId: nas.key.nodeId, addrs: [nasAddr] })
    await lan.settled()
    expect(dials).toHaveLength(1)
    expect(nasAddrs(laptop)).toEqual([nasAddr, stale])
    expect(nasAddrs(laptop)).not.toContain(inbound[0]!.remoteAddr.toString())
    await lan.stop()
  })

  it('bounds a flood: one attempt at a time per peer, a few addresses each, then none until the interval passes', async () => {
    const { laptop, stale } = await laptopWithStaleNas()
    const interval = 30_000
    const { feed, lan, dials, logs, clock } = countingDiscovery(laptop, { minAttemptIntervalMs: interval })
    const dead = await Promise.all(Array.from({ length: 8 }, deadPort))
    const bogus = dead.map(p => `/ip4/127.0.0.1/tcp/${p}`)
    for (let i = 0; i < 1000; i++) feed.emit({ nodeId: nas.key.nodeId, addrs: bogus })
    await lan.settled()
    expect(dials).toHaveLength(MAX_ANNOUNCED_ADDRS_DIALLED)
    // within the interval, even the real address is not dialled
    for (let i = 0; i < 100; i++) feed.emit({ nodeId: nas.key.nodeId, addrs: [nasAddr] })
    await lan.settled()
    expect(dials).toHaveLength(MAX_ANNOUNCED_ADDRS_DIALLED)
    expect(nasAddrs(laptop)).toEqual([stale])
    clock.advanceNs(interval * NS_PER_MS)
    feed.emit({ nodeId: nas.key.nodeId, addrs: [nasAddr] })
    await lan.settled()
    expect(dials).toHaveLength(MAX_ANNOUNCED_ADDRS_DIALLED + 1)
    expect(nasAddrs(laptop)).toEqual([nasAddr, stale])

    // a flood of made-up node ids: no dial, no row, one debug line per id
    const strangers = Array.from({ length: 200 }, () => nodeKeyFromSeed(generateSeed()).nodeId)
    const debugBefore = logs.messages('debug').length
    for (let round = 0; round < 5; round++) for (const s of strangers) feed.emit({ nodeId: s, addrs: [nasAddr] })
    await lan.settled()
    expect(dials).toHaveLength(MAX_ANNOUNCED_ADDRS_DIALLED + 1)
    expect(strangers.filter(s => laptop.store.nodes.byNodeId(s) !== undefined)).toEqual([])
    expect(logs.messages('debug').length - debugBefore).toBe(strangers.length)
    await lan.stop()
  })

  it('survives a store write that fails: logs a warning, settles, and keeps handling announcements', async () => {
    const { laptop, stale } = await laptopWithStaleNas()
    const feed = new AnnouncementFeed()
    const logs = new MemorySink()
    const failing = {
      byNodeId: (id: string) => laptop.store.nodes.byNodeId(id),
      promoteReachedAddr: () => { throw new Error('database is locked') }
    }
    const lan = lanDiscovery({ minAttemptIntervalMs: 0 })({ source: feed, nodes: failing, host: laptop.node!.host, clock: systemClock, logger: createLogger([logs], systemClock) })
    lan.start()
    feed.emit({ nodeId: nas.key.nodeId, addrs: [nasAddr] })
    await lan.settled()
    expect(logs.messages('warn')).toEqual(['could not record an address learned on the LAN'])
    expect(nasAddrs(laptop)).toEqual([stale])
    feed.emit({ nodeId: nas.key.nodeId, addrs: [nasAddr] })
    await lan.settled()
    expect(logs.messages('warn')).toHaveLength(2)
    await lan.stop()
  })

  it('gives up a dial that never answers after dialTimeoutMs, keeps one attempt per peer in flight, and stops with none', async () => {
    const { laptop, stale } = await laptopWithStaleNas()
    const feed = new AnnouncementFeed()
    let dials = 0
    const hanging: Pick<Libp2p, 'dial' | 'getConnections'> = {
      dial: async (_target, options) => await new Promise((_resolve, reject) => {
        dials++
        options?.signal?.addEventListener('abort', () => { reject(options.signal?.reason) })
      }),
      getConnections: () => []
    }
    const lan = lanDiscovery({ dialTimeoutMs: 50 })({ source: feed, nodes: laptop.store.nodes, host: hanging, clock: systemClock, logger: laptop.logger })
    lan.start()
    const t = performance.now()
    feed.emit({ nodeId: nas.key.nodeId, addrs: ['/ip4/10.0.0.1/tcp/1', '/ip4/10.0.0.2/tcp/1'] })
    await lan.settled()
    expect(dials).toBe(2)
    expect(performance.now() - t).toBeLessThan(2000)
    expect(nasAddrs(laptop)).toEqual([stale])
    await lan.stop()

    // one attempt at a time, even with no interval between attempts; stop() aborts it at once
    const lan2 = lanDiscovery({ dialTimeoutMs: 60_000, minAttemptIntervalMs: 0 })({ source: feed, nodes: laptop.store.nodes, host: hanging, clock: systemClock, logger: laptop.logger })
    lan2.start()
    for (let i = 0; i < 100; i++) feed.emit({ nodeId: nas.key.nodeId, addrs: ['/ip4/10.0.0.3/tcp/1'] })
    expect(dials).toBe(3)
    const s = performance.now()
    await lan2.stop()
    expect(performance.now() - s).toBeLessThan(1000)
  })
})
