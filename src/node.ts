/**
 * A running cairn node: the libp2p host with its connection gate and protocol handlers, the
 * revocation watcher, the pull scheduler and (with `[serve] mdns`) LAN discovery. `cairn serve`
 * creates one; the CLI's one-shot commands use `createClientHost` (same key and gate, no
 * listener, no handlers, no mDNS).
 */
import type { Libp2p } from '@libp2p/interface'
import type { Libp2pOptions } from 'libp2p'
import type { Clock } from './clock.js'
import type { Config } from './config/types.js'
import type { NodeKey } from './identity/node-key.js'
import type { Logger } from './logger.js'
import { durabilityHandler } from './p2p/durability-handler.js'
import { holdHandler } from './hold/handler.js'
import { fetchHandler } from './fetch/handler.js'
import { FETCH_PROTOCOL, VERIFY_PROTOCOL } from './protocol/ids.js'
import { verifyHandler } from './verify/handler.js'
import { MAX_INBOUND_FETCH_STREAMS, MAX_INBOUND_VERIFY_STREAMS } from './protocol/limits.js'
import { createHost } from './p2p/host.js'
import { AnnouncementFeed, lanDiscovery, type DiscoverySource, type LanDiscovery, type LanDiscoveryInit } from './p2p/lan-discovery.js'
import { DURABILITY_PROTOCOL, HOLD_PROTOCOL, PUSH_PROTOCOL } from './protocol/ids.js'
import { MAX_INBOUND_DURABILITY_STREAMS, MAX_INBOUND_HOLD_STREAMS, MAX_INBOUND_PUSH_STREAMS } from './protocol/limits.js'
import { pushHandler } from './p2p/push-handler.js'
import type { DirectoryFs } from './push/directory-fs.js'
import { cleanStaleStaging } from './push/staging-cleanup.js'
import { pullVolume } from './pull/pull.js'
import { pullScheduler, type PullScheduler } from './pull/scheduler.js'
import type { Store } from './store/store.js'
import { scheduledJobs, volumeScheduler, type VolumeScheduler } from './runtime/scheduler.js'
import { scheduledWork } from './runtime/scheduled-work.js'
import { knockRecorder } from './p2p/knocks.js'
import { contactTracker } from './p2p/contacts.js'
import { nameHost } from './p2p/dial.js'

/** How often a running node checks for revocations made by other processes (the CLI). */
export const REVOCATION_POLL_MS = 250
/** How often a running node stamps the last contact of the peers it is connected to. */
export const CONTACT_SWEEP_MS = 15_000

export interface NodeInit {
  store: Store
  key: NodeKey
  config: Config
  logger: Logger
  clock: Clock
  /** Overrides config.listen (tests). */
  listen?: string[]
  /** Overrides config.serve.pull_every; 0 disables scheduled pulls. */
  pullEveryMs?: number
  /** Per-exchange deadline for pulls this node makes (tests shorten it). */
  pullTimeoutMs?: number
  /** Deadline for answering one inbound durability request (tests shorten it). */
  durabilityDeadlineMs?: number
  /** Deadline for each frame of an inbound push (tests shorten it). */
  pushFrameDeadlineMs?: number
  /** Filesystem for received pushes (tests inject faults). */
  fs?: DirectoryFs
  /** Deadline for answering one inbound hold request (tests shorten it). */
  holdDeadlineMs?: number
  /** Run the volumes' index/push/verify/rehash schedules (default true; tests that drive runs by hand turn them off). */
  schedules?: boolean
  /** Deadline for each frame of an inbound fetch (tests shorten it). */
  fetchFrameDeadlineMs?: number
  /** Tests: the verify handler's frame deadline and progress interval. */
  verifyFrameDeadlineMs?: number
  verifyProgressMs?: number
  /** Tests: the draw of a sampled verify a peer asks for (uniform in [0, 1); default Math.random). */
  verifyRandom?: () => number
  /**
   * Tests: LAN announcements come from this source instead of mDNS (no multicast), whatever
   * config.serve.mdns says. Without it, mDNS runs when config.serve.mdns is true.
   */
  discovery?: DiscoverySource
  /** Tests: LAN discovery's dial timeout and attempt interval. */
  lanDiscovery?: LanDiscoveryInit
  /** libp2p's own metrics (serve: `prometheusMetrics({ registry })`, read by /metrics). */
  metrics?: Libp2pOptions['metrics']
}

export interface ReplicationNode {
  readonly host: Libp2p
  /** Listen addresses without the /p2p suffix. */
  addrs: () => string[]
  stop: () => Promise<void>
  /** One round of pulls from every live peer for every volume, now. */
  pullRound: () => Promise<void>
  /** The volume schedules (docs/schedules.md). */
  readonly schedules: VolumeScheduler
}

/** Starts a serving node. */
export async function startNode (init: NodeInit): Promise<ReplicationNode> {
  const logger = init.logger
  const reaped = init.store.runs.reapOrphans()
  for (const run of reaped) logger.info('marked an orphaned run aborted', { run: run.id, kind: run.kind })

  const knocks = knockRecorder(init.store.pendingPeers, init.clock, logger.forComponent('gate'))
  // mDNS answers are anyone's word: they reach lan-discovery.ts only, which dials before it writes
  const mdns = init.discovery === undefined && init.config.serve.mdns === true ? new AnnouncementFeed() : undefined
  const host = await createHost({
    key: init.key,
    listen: init.listen ?? init.config.listen,
    gate: { allows: (id) => init.store.nodes.isLivePeer(id), refusedInbound: knocks.knocked },
    logger: logger.forComponent('gate'),
    ...(mdns === undefined ? {} : { mdns: { onAnnouncement: mdns.emit, logger: logger.forComponent('mdns') } }),
    ...(init.metrics === undefined ? {} : { metrics: init.metrics })
  })
  nameHost(host, init.store.nodes.self().name ?? init.config.name)
  const contacts = contactTracker(init.store.nodes, init.clock, logger.forComponent('contacts'))
  contacts.attach(host)
  await host.handle(DURABILITY_PROTOCOL, durabilityHandler({
    store: init.store, key: init.key, config: () => init.config, logger: logger.forComponent('durability'), deadlineMs: init.durabilityDeadlineMs
  }), { maxInboundStreams: MAX_INBOUND_DURABILITY_STREAMS, maxOutboundStreams: MAX_INBOUND_DURABILITY_STREAMS })
  await host.handle(PUSH_PROTOCOL, pushHandler({
    store: init.store, key: init.key, config: () => init.config, logger: logger.forComponent('receive'), fs: init.fs, frameDeadlineMs: init.pushFrameDeadlineMs
  }), { maxInboundStreams: MAX_INBOUND_PUSH_STREAMS, maxOutboundStreams: MAX_INBOUND_PUSH_STREAMS })
  await host.handle(HOLD_PROTOCOL, holdHandler({
    store: init.store, key: init.key, config: () => init.config, logger: logger.forComponent('hold'), fs: init.fs, deadlineMs: init.holdDeadlineMs
  }), { maxInboundStreams: MAX_INBOUND_HOLD_STREAMS, maxOutboundStreams: MAX_INBOUND_HOLD_STREAMS })
  await host.handle(FETCH_PROTOCOL, fetchHandler({
    store: init.store, config: () => init.config, logger: logger.forComponent('fetch'), fs: init.fs, frameDeadlineMs: init.fetchFrameDeadlineMs
  }), { maxInboundStreams: MAX_INBOUND_FETCH_STREAMS, maxOutboundStreams: MAX_INBOUND_FETCH_STREAMS })
  // a re-read a peer asked for stops when the node stops
  const stopping = new AbortController()
  await host.handle(VERIFY_PROTOCOL, verifyHandler({
    store: init.store, key: init.key, config: () => init.config, logger: logger.forComponent('verify'), signal: stopping.signal,
    ...(init.verifyFrameDeadlineMs === undefined ? {} : { frameDeadlineMs: init.verifyFrameDeadlineMs }),
    ...(init.verifyProgressMs === undefined ? {} : { progressMs: init.verifyProgressMs }),
    ...(init.verifyRandom === undefined ? {} : { random: init.verifyRandom })
  }), { maxInboundStreams: MAX_INBOUND_VERIFY_STREAMS, maxOutboundStreams: MAX_INBOUND_VERIFY_STREAMS })
  await cleanStaleStaging(init.store, init.config, logger.forComponent('staging'))
  await host.start()
  const announcements = init.discovery ?? mdns
  const lan: LanDiscovery | undefined = announcements === undefined
    ? undefined
    : lanDiscovery(init.lanDiscovery)({ source: announcements, nodes: init.store.nodes, host, clock: init.clock, logger: logger.forComponent('lan') })
  lan?.start()

  // A revocation from the CLI reaches this process through the database: drop any open
  // connection to a peer that is no longer live. The gate refuses new ones on its own.
  const dropped = new Set<string>()
  let sweeps = 0
  const watcher = setInterval(() => {
    // a long-lived connection keeps its peer's last contact current
    if (++sweeps % Math.ceil(CONTACT_SWEEP_MS / REVOCATION_POLL_MS) === 0) contacts.sweep(host)
    for (const conn of host.getConnections()) {
      const peer = conn.remotePeer.toString()
      if (init.store.nodes.isLivePeer(peer)) continue
      if (!dropped.has(peer)) {
        dropped.add(peer)
        logger.warn('closing connections to a peer that is no longer live (revoked)', { peer })
      }
      conn.abort(new Error('peer revoked'))
    }
  }, REVOCATION_POLL_MS)

  const pullEveryMs = init.pullEveryMs ?? init.config.serve.pullEveryMs
  const scheduler: PullScheduler = pullScheduler({ intervalMs: Math.max(pullEveryMs, 100) })({
    livePeers: () => init.store.nodes.listPeers().filter(p => p.revokedAtNs === null),
    volumes: () => [...init.config.volumes.keys()],
    pull: async (peer, volume, signal) => await pullVolume({
      store: init.store, config: init.config, host, peer, volume, allowRewind: false, logger: logger.forComponent('pull'), timeoutMs: init.pullTimeoutMs, signal
    }),
    logger: logger.forComponent('scheduler'),
    clock: init.clock
  })
  if (pullEveryMs > 0) scheduler.start()

  const schedules = volumeScheduler({
    store: init.store,
    clock: init.clock,
    logger: logger.forComponent('schedule'),
    jobs: scheduledJobs(init.config.volumes.values()),
    run: scheduledWork({ store: init.store, config: () => init.config, host, logger })
  })
  if (init.schedules !== false) schedules.start()

  let stopped = false
  return {
    host,
    addrs: () => host.getMultiaddrs().map(a => a.toString().replace(/\/p2p\/[^/]+$/, '')),
    pullRound: async () => { await scheduler.round() },
    schedules,
    stop: async () => {
      if (stopped) return
      stopped = true
      clearInterval(watcher)
      stopping.abort(new Error('the node is stopping'))
      await lan?.stop()
      const schedulerStopped = scheduler.stop()
      // scheduled runs are told to stop; the host goes after them (a push in flight uses it)
      await schedules.stop()
      await host.stop()
      await schedulerStopped
    }
  }
}

/** A started, non-listening host for one-shot CLI commands (pull, push). */
export async function createClientHost (store: Store, key: NodeKey, logger: Logger): Promise<Libp2p> {
  const host = await createHost({ key, listen: [], gate: { allows: (id) => store.nodes.isLivePeer(id) }, logger: logger.forComponent('gate') })
  nameHost(host, store.nodes.self().name ?? 'this node')
  contactTracker(store.nodes, store.clock, logger.forComponent('contacts')).attach(host)
  await host.start()
  return host
}
