/**
 * Review of issue 16, priority 3: mDNS as attack surface. An announcement is anyone's word;
 * lan-discovery.ts writes an address only after an authenticated dial to the pinned key. But a
 * stranger on the LAN can make that dial succeed at an address it controls by forwarding TCP
 * to the real peer (Noise still sees the real key), and every such success goes first in the
 * peer's addresses, at most MAX_PEER_ADDRS kept. Eight forwarders push the invite's address
 * out; the stranger then closes them and the peer is unreachable until someone re-adds it
 * (nothing heals it when the real peer is not on this LAN: offsite, over a VPN).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { createLogger, MemorySink } from '../../src/logger.js'
import { AnnouncementFeed, lanDiscovery, MAX_PEER_ADDRS } from '../../src/p2p/lan-discovery.js'
import { pullVolume } from '../../src/pull/pull.js'
import { inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'

/** A TCP forwarder on 127.0.0.1 to `port`: the stranger's relay. */
async function forwarder (port: number): Promise<{ addr: string, close: () => Promise<void> }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((inbound) => {
    const up = createConnection(port, '127.0.0.1')
    for (const s of [inbound, up]) { sockets.add(s); s.on('error', () => {}); s.on('close', () => sockets.delete(s)) }
    inbound.pipe(up)
    up.pipe(inbound)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const addr = `/ip4/127.0.0.1/tcp/${(server.address() as { port: number }).port}`
  return {
    addr,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>(resolve => server.close(() => { resolve() }))
    }
  }
}

const root = tempDir('cairn-review16-lan-')
let nas: InProcessNode
let laptop: InProcessNode

beforeAll(async () => {
  nas = inProcessNode(root, 'nas', `[volumes.photos]\npath = "${join(root, 'nas-photos')}"\n`)
  laptop = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${join(root, 'laptop-photos')}"\n`)
  await nas.initVolumes()
  await laptop.initVolumes()
  await nas.start()
  await laptop.start()
})

afterAll(async () => {
  await laptop.close()
  await nas.close()
})

describe('LAN discovery against a stranger on the LAN', () => {
  it('never drops the invite\'s address of a live peer, however many relayed addresses authenticate', async () => {
    const nasAddr = nas.node!.addrs()[0]!
    const nasPort = Number(nasAddr.split('/')[4])
    laptop.store.nodes.enrollPeer(nas.key.nodeId, 'nas', [nasAddr])
    nas.store.nodes.enrollPeer(laptop.key.nodeId, 'laptop', [])
    const pull = async () => {
      const client = await laptop.client()
      return await pullVolume({ store: laptop.store, config: laptop.config, host: client, peer: laptop.store.nodes.byNodeId(nas.key.nodeId)!, volume: 'photos', allowRewind: false, logger: laptop.logger })
    }
    expect((await pull()).status).toBe('success')

    const feed = new AnnouncementFeed()
    const clock = new ManualClock()
    const lan = lanDiscovery()({ source: feed, nodes: laptop.store.nodes, host: laptop.node!.host, clock, logger: createLogger([new MemorySink()], clock) })
    lan.start()
    const relays = []
    for (let i = 0; i < MAX_PEER_ADDRS; i++) {
      const relay = await forwarder(nasPort)
      relays.push(relay)
      // the stranger multicasts nas's node id at its relay, once per LAN_MIN_ATTEMPT_INTERVAL_MS
      clock.advanceNs(60_000 * 1e6)
      feed.emit({ nodeId: nas.key.nodeId, addrs: [relay.addr] })
      await lan.settled()
    }
    await lan.stop()
    for (const r of relays) await r.close()

    expect(laptop.store.nodes.byNodeId(nas.key.nodeId)!.addrs).toContain(nasAddr)
    expect((await pull()).status).toBe('success')
  })
})
