/**
 * /metrics: cairn's own metrics, computed from the store at scrape time, in a prom-client
 * Registry of its own (never the global one). libp2p's connection metrics land in the same
 * registry when the host was created with `prometheusMetrics({ registry })` (src/cli/serve.ts).
 *
 * Gauges hold what is recomputed and may go down (ages, lag, files blocked, peers online);
 * counters hold sums over finished runs, which only grow (src/http/run-totals.ts). Labels are
 * volume and target names from the config, peer names, causes and statuses: never paths.
 * docs/http.md lists every metric.
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import { runTotals, type RunTotal } from './run-totals.js'
import type { StatusView } from './view.js'
import type { Store } from '../store/store.js'

export interface MetricsInit {
  registry: Registry
  version: string
  startedAtNs: number
}

export interface CairnMetrics {
  /** Sets every cairn_* metric from a fresh view and the run totals. */
  refresh: (view: StatusView, store: Store) => void
}

export function cairnMetrics (init: MetricsInit): CairnMetrics {
  const registers = [init.registry]
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> => new Gauge<L>({ name, help, labelNames, registers })
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> => new Counter<L>({ name, help, labelNames, registers })

  const buildInfo = gauge('cairn_build_info', 'Always 1; the labels name the cairn version and this node.', ['version', 'node', 'node_id'])
  const startTime = gauge('cairn_start_time_seconds', 'When this serve process started, in seconds since the Unix epoch.')
  const ok = gauge('cairn_status_ok', '1 when `cairn status` reports nothing blocking, else 0.')
  const files = gauge('cairn_volume_files', 'Files of a volume by status (present, offloaded, missing, conflict).', ['volume', 'status'])
  const lastIndex = gauge('cairn_volume_last_index_timestamp_seconds', 'When the volume\'s last finished index run ended (any status).', ['volume'])
  const age = gauge('cairn_evidence_age_seconds', 'Age of the oldest evidence a target holds for a volume (absent: no evidence of known age).', ['volume', 'target'])
  const lag = gauge('cairn_evidence_lag_runs', 'Runs behind: this node\'s index runs with versions newer than what the target\'s evidence covers (docs/http.md).', ['volume', 'target'])
  const components = gauge('cairn_evidence_components', 'Live evidence components (one per origin) a target holds for a volume.', ['volume', 'target'])
  const durable = gauge('cairn_offload_durable_files', 'Present files that pass the offload gate now.', ['volume'])
  const blocked = gauge('cairn_offload_blocked_files', 'Present files the offload gate refuses, by required target and cause (a file can be refused by several targets).', ['volume', 'target', 'cause'])
  const pushFiles = counter('cairn_push_files_total', 'Files sent by finished push runs.', ['volume', 'target'])
  const pushBytes = counter('cairn_push_bytes_total', 'Bytes sent by finished push runs.', ['volume', 'target'])
  const pushRuns = counter('cairn_push_runs_total', 'Finished push runs by outcome.', ['volume', 'target', 'status'])
  const receiveFiles = counter('cairn_receive_files_total', 'Files received from peers\' pushes (finished receive runs).', ['volume', 'peer'])
  const receiveBytes = counter('cairn_receive_bytes_total', 'Bytes received from peers\' pushes (finished receive runs).', ['volume', 'peer'])
  const receiveRuns = counter('cairn_receive_runs_total', 'Finished receive runs (pushes from peers) by outcome.', ['volume', 'peer', 'status'])
  const pullRuns = counter('cairn_pull_runs_total', 'Finished pull runs by outcome.', ['peer', 'status'])
  const peers = gauge('cairn_peers', 'Enrolled peers by status (enrolled, revoked).', ['status'])
  const peersOnline = gauge('cairn_peers_online', 'Live peers with a libp2p connection to this serve process now.')
  const peerOnline = gauge('cairn_peer_online', '1 when the live peer has a libp2p connection to this serve process now, else 0.', ['peer'])
  const lastPull = gauge('cairn_peer_last_pull_timestamp_seconds', 'When the last finished pull from a live peer ended (any status).', ['peer'])

  return {
    refresh: (view, store) => {
      const s = view.status
      for (const m of [buildInfo, ok, files, lastIndex, age, lag, components, durable, blocked, pushFiles, pushBytes, pushRuns, receiveFiles, receiveBytes, receiveRuns, pullRuns, peers, peersOnline, peerOnline, lastPull]) m.reset()
      buildInfo.set({ version: init.version, node: s.name, node_id: s.node_id }, 1)
      startTime.set(init.startedAtNs / 1e9)
      ok.set(s.ok ? 1 : 0)
      const targetName = new Map<string, Map<string, string>>()
      for (const v of s.volumes) {
        files.set({ volume: v.name, status: 'present' }, v.files.present)
        files.set({ volume: v.name, status: 'offloaded' }, v.files.offloaded)
        files.set({ volume: v.name, status: 'missing' }, v.files.missing)
        files.set({ volume: v.name, status: 'conflict' }, v.files.conflict)
        if (v.last_index !== null) lastIndex.set({ volume: v.name }, v.last_index.at_ns / 1e9)
        const names = new Map<string, string>()
        for (const t of v.targets) {
          names.set(t.name, t.name)
          if (t.key !== null) names.set(t.key, t.name)
          const labels = { volume: v.name, target: t.name }
          const known = t.components.map(c => c.age_s).filter((a): a is number => a !== null)
          if (known.length > 0) age.set(labels, Math.max(...known))
          components.set(labels, t.components.length)
          const l = view.lag.get(v.name)?.get(t.name)
          if (l !== undefined) lag.set(labels, l.runs_behind)
        }
        targetName.set(v.name, names)
        if (v.offload.required.length > 0) durable.set({ volume: v.name }, v.offload.durable)
        for (const g of v.offload.groups) blocked.inc({ volume: v.name, target: g.target, cause: g.cause }, g.files)
      }
      const target = (t: RunTotal): string => (t.volume === null ? undefined : targetName.get(t.volume)?.get(t.destination ?? '')) ?? t.destination ?? 'unknown'
      for (const t of runTotals(store)) {
        const volume = t.volume ?? ''
        if (t.kind === 'push') {
          pushRuns.inc({ volume, target: target(t), status: t.status }, t.runs)
          pushFiles.inc({ volume, target: target(t) }, t.files)
          pushBytes.inc({ volume, target: target(t) }, t.bytes)
        } else if (t.kind === 'receive') {
          const peer = t.peer ?? 'unknown'
          receiveRuns.inc({ volume, peer, status: t.status }, t.runs)
          receiveFiles.inc({ volume, peer }, t.files)
          receiveBytes.inc({ volume, peer }, t.bytes)
        } else {
          pullRuns.inc({ peer: t.peer ?? 'unknown', status: t.status }, t.runs)
        }
      }
      let enrolled = 0
      let revoked = 0
      let online = 0
      for (const p of s.peers) {
        if (p.status === 'revoked') { revoked++; continue }
        enrolled++
        const name = p.name ?? p.node_id
        const on = view.online.has(p.node_id)
        if (on) online++
        peerOnline.set({ peer: name }, on ? 1 : 0)
        if (p.last_pull !== null) lastPull.set({ peer: name }, p.last_pull.at_ns / 1e9)
      }
      peers.set({ status: 'enrolled' }, enrolled)
      peers.set({ status: 'revoked' }, revoked)
      peersOnline.set(online)
    }
  }
}
