/**
 * One picture of a node: per volume its path, last index, every target it pushes to or
 * requires (covered origins, method, evidence age, provenance, last push), what blocks
 * offload (the gate over the present files), and config names that resolve to nothing; per
 * peer its enrollment, last contact and last pull; whether this node's `serve` runs. `ok` is
 * false only for a problem an operator must act on (status-problems.ts, docs/status.md): files
 * not pushed yet are reported, not problems.
 */
import type { Config } from './config/types.js'
import { closestTargetName, nodeLabel, resolveTarget, targetIdentity, targetKey, targetLabel } from './naming.js'
import { gateFile } from './offload/gate.js'
import { loadGatePolicy, placementKeys } from './offload/gate-policy.js'
import { ReportBuilder, provenance, type Group, type Requirement } from './offload/report.js'
import type { DirectoryFs } from './push/directory-fs.js'
import { assessVolumeIdentity } from './push/volume-marker.js'
import type { Run } from './store/runs.js'
import type { Store } from './store/store.js'
import type { ScheduleKind } from './store/schedules.js'
import { scheduledJobs } from './runtime/scheduler.js'
import { offloadedAtRisk, type AtRiskGroup } from './offload/where.js'
import { failedStreams, peerReachability } from './status-problems.js'
import { formatDuration, formatInstant } from './age.js'

export interface RunSummary {
  run_id: number
  at_ns: number
  status: string
  error: string | null
}

export interface TargetStatus {
  name: string
  kind: 'directory' | 'peer' | 'relayed'
  /** For display: `usb`, `nas`, `offsite (nas's)`. */
  label: string
  /** The store/wire key (`dir:<marker id>` or a node id); null before a directory's first push. */
  key: string | null
  /** The node that owns the directory's marker (a directory), or the peer's own id. */
  owner_node_id: string | null
  pushed: boolean
  required: boolean
  last_push: RunSummary | null
  components: Array<{ origin: string, origin_run: number, verify_method: string | null, verified_at_ns: number | null, age_s: number | null, source: string, provenance: string }>
}

/** The volume root's identity marker (docs/volumes.md). */
export interface VolumeIdentityStatus {
  /** The marker id this node recorded (null: none yet). */
  marker_id: string | null
  /** ok: the recorded marker is there; refused: missing, changed or unreadable (or the root is gone); unmarked: none yet, the next index writes it; empty: none yet and the root is empty. */
  state: 'ok' | 'refused' | 'unmarked' | 'empty' | 'unknown'
  /** The refusal index, receive and offload give now, with what to do; null when none. */
  problem: string | null
}

export interface VolumeStatus {
  name: string
  path: string
  identity: VolumeIdentityStatus
  last_index: RunSummary | null
  files: { present: number, offloaded: number, missing: number, conflict: number }
  /**
   * Paths where this node kept its own file instead of a peer's pushed version (DESIGN
   * invariant 25), at most MAX_STATUS_CONFLICTS of them; `files.conflict` counts them all.
   */
  conflicts: ConflictStatus[]
  targets: TargetStatus[]
  offload: { required: string[], present: number, durable: number, not_durable: number, groups: Group[], requirements: Requirement[] }
  /** What `cairn serve` runs on its own for this volume, and when next (docs/schedules.md). */
  schedules: ScheduleStatus[]
  /** Offloaded files that no target holds on trusted evidence now, by directory, with the restore that brings them back. */
  offloaded_at_risk: AtRiskGroup[]
  /** Problems: any of them makes `ok` false. */
  warnings: string[]
  /** Facts worth knowing that block nothing. */
  notes: string[]
}

export interface ScheduleStatus {
  kind: ScheduleKind
  every_ms: number
  /** When the serving node runs it next; null until a `serve` has armed it. */
  next_at_ns: number | null
  last_status: string | null
  last_error: string | null
  last_ended_at_ns: number | null
  /** Consecutive failed attempts (the back-off). */
  failures: number
  last_run_ids: number[]
}

/** Consecutive failures of a scheduled job that make it a problem (fewer: the back-off retries a blip). */
export const SCHEDULE_FAILURES_PROBLEM = 3

/** Conflicts listed per volume in status (the count covers all). */
export const MAX_STATUS_CONFLICTS = 100

export interface ConflictStatus {
  path: string
  /** The pushing peer's name (its node id when it has none). */
  pusher: string
  pusher_node_id: string
  /** `local-edit` (the file here differs from what was indexed), `diverged` (this node's version is newer than or unrelated to the pushed one), `occupied` (an unindexed file or directory is in the way). */
  kind: string
  /** The pushed version that was kept out: its hash (hex), origin and origin run. */
  hash: string
  origin: string
  origin_node_id: string
  origin_run: number
  first_seen_ns: number
  last_seen_ns: number
}

export interface PeerStatus {
  name: string | null
  node_id: string
  status: 'enrolled' | 'revoked'
  addrs: string[]
  last_pull: RunSummary | null
  /** The last authenticated connection with it (either direction); null: never. */
  last_seen_ns: number | null
  /** The newest of last_seen_ns and its last successful pull. */
  last_contact_ns: number | null
  /** Set when the peer needs the operator (refused pulls, unreachable for several pull intervals). */
  problem: string | null
}

/** This home's `cairn serve` process, from serve.json and a liveness probe of its pid. */
export interface ServeStatus {
  running: boolean
  pid: number | null
  started_at_ns: number | null
  addrs: string[]
  /** Where its status page and /metrics answer; null: HTTP off (or not running). */
  http_url: string | null
}

export interface NodeStatus {
  node_id: string
  name: string
  /** False only when `problems` is non-empty: `cairn status` then exits 1. */
  ok: boolean
  /** Everything an operator must act on, one line each, prefixed with the volume or peer. */
  problems: string[]
  serve: ServeStatus
  volumes: VolumeStatus[]
  peers: PeerStatus[]
}

export const SERVE_NOT_RUNNING: ServeStatus = { running: false, pid: null, started_at_ns: null, addrs: [], http_url: null }

function summary (r: Run | undefined): RunSummary | null {
  return r === undefined ? null : { run_id: r.id, at_ns: r.endedAtNs ?? r.startedAtNs, status: r.status, error: r.error }
}

/**
 * Reads every configured volume's root marker (the part of status that needs the filesystem;
 * `nodeStatus` itself is synchronous). Writes nothing.
 */
export async function volumeIdentities (store: Store, config: Config, fs: DirectoryFs): Promise<Map<string, VolumeIdentityStatus>> {
  const out = new Map<string, VolumeIdentityStatus>()
  for (const volume of config.volumes.values()) {
    const recorded = store.volumes.get(volume.name)?.markerId ?? null
    try {
      const id = await assessVolumeIdentity(store, fs, volume.name, volume.path)
      switch (id.kind) {
        case 'recorded': out.set(volume.name, { marker_id: recorded, state: 'ok', problem: null }); break
        case 'refused': out.set(volume.name, { marker_id: recorded, state: 'refused', problem: id.error.hint === undefined ? id.error.message : `${id.error.message}; ${id.error.hint}` }); break
        case 'empty': out.set(volume.name, {
          marker_id: null,
          state: 'empty',
          problem: id.filesRecorded > 0 ? `${volume.path} is empty and has no identity marker, but ${id.filesRecorded} file(s) were recorded there: it looks like an unmounted disk; mount it (or, if the volume really is empty now, run \`cairn volume init ${volume.name}\`)` : null
        }); break
        default: out.set(volume.name, { marker_id: null, state: 'unmarked', problem: null })
      }
    } catch (err) {
      out.set(volume.name, { marker_id: recorded, state: 'unknown', problem: `the volume root could not be read: ${err instanceof Error ? err.message : String(err)}` })
    }
  }
  return out
}

export function nodeStatus (store: Store, config: Config, nowNs: number, identities: Map<string, VolumeIdentityStatus> = new Map(), serve: ServeStatus = SERVE_NOT_RUNNING): NodeStatus {
  const self = store.nodes.self()
  const name = (rowId: number): string => {
    const n = store.nodes.byRowId(rowId)
    return nodeLabel(n, n?.nodeId ?? `#${rowId}`)
  }
  const volumes: VolumeStatus[] = []
  const problems: string[] = []
  for (const volume of config.volumes.values()) {
    const row = store.volumes.get(volume.name)
    const warnings: string[] = []
    const notes: string[] = []
    // the volume's own disk comes first: nothing else about it means much while this refuses
    const identity = identities.get(volume.name) ?? { marker_id: row?.markerId ?? null, state: 'unknown', problem: null }
    if (identity.problem !== null) warnings.push(identity.problem)
    if (identity.state === 'unmarked') notes.push('no identity marker yet: the next index writes .cairn-volume at the root')
    if (identity.state === 'empty' && identity.problem === null) notes.push(`the root is empty and has no identity marker: pushes to this node are refused until \`cairn volume init ${volume.name}\` (or an index once it holds files)`)
    if (row !== undefined && row.path !== volume.path) warnings.push(`the config says path ${volume.path}, but evidence was recorded for ${row.path}`)
    const runs = row === undefined ? [] : store.runs.list({ volumeId: row.id, limit: 500 })
    const counts = { present: 0, offloaded: 0, missing: 0, conflict: 0 }
    const conflicts: ConflictStatus[] = []
    if (row !== undefined) {
      for (const r of store.db.prepare("SELECT status, count(*) AS n FROM files WHERE volume_id = ? AND status <> 'superseded' GROUP BY status").all(row.id) as Array<{ status: 'present' | 'offloaded' | 'missing', n: number }>) counts[r.status] = r.n
      const live = store.conflicts.forVolume(row.id)
      counts.conflict = live.length
      for (const k of live.slice(0, MAX_STATUS_CONFLICTS)) {
        const pusher = store.nodes.byRowId(k.pusherNodeId)
        const origin = store.nodes.byRowId(k.originNodeId)
        conflicts.push({
          path: k.path, pusher: pusher?.name ?? pusher?.nodeId ?? '?', pusher_node_id: pusher?.nodeId ?? '?', kind: k.kind,
          hash: k.hash.toString('hex'), origin: origin?.isSelf === true ? 'self' : origin?.name ?? origin?.nodeId ?? '?', origin_node_id: origin?.nodeId ?? '?',
          origin_run: k.originRunId, first_seen_ns: k.firstSeenNs, last_seen_ns: k.lastSeenNs
        })
      }
      if (live.length > 0) warnings.push(`${live.length} path(s) in conflict: this node kept its own file instead of a peer's pushed version (to resolve: index the volume to keep yours as this node's version, or move or remove it so the next push lands)`)
    }
    const vector = row === undefined ? [] : store.vector.list(row.id)
    const names = [...new Set([...volume.pushTo, ...volume.offloadRequires])]
    const targets: TargetStatus[] = names.map(t => {
      const resolved = resolveTarget(store, config, t)
      const key = targetKey(store, config, t)
      const pushed = volume.pushTo.includes(t)
      const revoked = resolved.kind === 'peer' && resolved.node.revokedAtNs !== null ? resolved.node : undefined
      const revokedRelay = resolved.kind === 'relayed' && resolved.via.revokedAtNs !== null ? resolved.via : undefined
      if (revoked !== undefined) {
        warnings.push(`${t} is a revoked peer: its evidence is gone and its key refused; remove it from push_to / offload_requires, or re-enroll it if you trust the key again`)
      } else if (revokedRelay !== undefined) {
        warnings.push(`${t} is reached only through ${revokedRelay.name ?? revokedRelay.nodeId}, a revoked peer: nothing it says about ${t} counts; remove ${t} from push_to / offload_requires, or re-enroll ${revokedRelay.name ?? revokedRelay.nodeId} if you trust its key again`)
      } else if (resolved.kind === 'unknown') {
        const closest = closestTargetName(store, config, t)
        warnings.push(`${t} names no configured destination, enrolled peer or PEER/NAME of one${closest === null ? '' : ` (did you mean ${JSON.stringify(closest)}?)`}; it never falls back to another meaning`)
      } else if (pushed && resolved.kind === 'relayed') {
        warnings.push(`push_to names ${t}, a directory only ${resolved.via.name ?? resolved.via.nodeId} reaches: push to ${resolved.via.name ?? resolved.via.nodeId} instead`)
      }
      const identity = key === undefined ? undefined : targetIdentity(store, key)
      return {
        name: t,
        kind: resolved.kind === 'directory' ? 'directory' : resolved.kind === 'peer' ? 'peer' : 'relayed',
        label: key === undefined ? t : targetLabel(store, key),
        key: key ?? null,
        owner_node_id: identity?.owner_node_id ?? null,
        pushed,
        required: volume.offloadRequires.includes(t),
        last_push: pushed && row !== undefined ? summary(runs.find(r => r.kind === 'push' && (r.destination === t || (key !== undefined && r.destination === key)) && r.status !== 'running')) : null,
        components: key === undefined ? [] : vector.filter(c => c.destination === key).map(c => ({
          origin: name(c.originNodeId),
          origin_run: c.originRunId,
          verify_method: c.verifyMethod,
          verified_at_ns: c.verifiedAtNs,
          age_s: c.verifiedAtNs === null ? null : Math.max(0, Math.floor((nowNs - c.verifiedAtNs) / 1e9)),
          source: c.sourceNodeId === null ? 'local' : name(c.sourceNodeId),
          provenance: provenance(c, name)
        }))
      }
    })
    const offload: VolumeStatus['offload'] = { required: volume.offloadRequires, present: counts.present, durable: 0, not_durable: 0, groups: [], requirements: [] }
    if (volume.offloadRequires.length === 0) {
      notes.push('offload_requires is empty: nothing in this volume may be offloaded')
    } else if (row !== undefined) {
      const policy = loadGatePolicy(store, config, volume, nowNs)
      const builder = new ReportBuilder(policy, name)
      for (const f of store.files.iterateGateRows(row.id, placementKeys(policy))) {
        const refusals = gateFile(policy, f)
        builder.add(f.path, f, refusals)
        if (refusals.length === 0) offload.durable++
        else offload.not_durable++
      }
      offload.groups = builder.finishGroups()
      offload.requirements = [...builder.requirements.values()]
      // evidence that aged past the limit, or a directory whose identity no longer checks out,
      // will not heal by waiting: those groups are problems; not-pushed-yet groups are not
      for (const g of offload.groups) {
        if (g.cause === 'evidence-stale' || g.cause === 'destination-unverified') warnings.push(`${g.target}: ${g.files} file(s) ${g.summary}; to clear: ${g.advice}`)
      }
    }
    if (row !== undefined) {
      for (const f of failedStreams(store, row.id, nowNs, config.serve.pullEveryMs)) {
        const current = f.destination === null ? undefined : targets.find(t => t.key === f.destination || t.name === f.destination)
        // a push or verify to a target the config no longer names (renamed, removed) is no
        // stream any more: nothing could ever clear it
        if ((f.kind === 'push' || f.kind === 'verify') && f.destination !== null && current === undefined) continue
        const target = f.destination === null ? null : current?.name ?? f.destination
        const what = f.kind === 'receive' ? `receive from ${f.peer ?? '?'}` : `${f.kind}${target === null ? '' : ` ${f.kind === 'verify' ? 'at' : 'to'} ${target}`}${f.peer !== null && f.kind !== 'receive' && target === null ? ` with ${f.peer}` : ''}`
        warnings.push(`the last ${what} ${f.status === 'refused' ? 'was refused' : f.status === 'partial' ? 'was partial twice in a row' : 'failed'} at ${formatInstant(f.at_ns)} (run ${f.run_id}): ${f.error ?? 'see `cairn runs`'}`)
      }
    }
    const offloadedAtRiskNow = counts.offloaded === 0 ? [] : offloadedAtRisk(store, config, volume, nowNs)
    if (offloadedAtRiskNow.length > 0) {
      const n = offloadedAtRiskNow.reduce((k, g) => k + g.files, 0)
      warnings.push(`${n} offloaded file(s) have no evidence on any trusted target (a revoked peer, lost or stale evidence): ${offloadedAtRiskNow[0]?.command ?? ''}${offloadedAtRiskNow.length > 1 ? ` (and ${offloadedAtRiskNow.length - 1} more director(ies): see status --json)` : ''}`)
    }
    const rows = row === undefined ? [] : store.schedules.forVolume(row.id)
    const schedules: ScheduleStatus[] = scheduledJobs([volume]).map(j => {
      const r = rows.find(x => x.kind === j.kind)
      return {
        kind: j.kind, every_ms: j.everyMs, next_at_ns: r?.nextAtNs ?? null, last_status: r?.lastStatus ?? null, last_error: r?.lastError ?? null,
        last_ended_at_ns: r?.lastEndedAtNs ?? null, failures: r?.failures ?? 0, last_run_ids: r?.lastRunIds ?? []
      }
    })
    for (const sch of schedules) {
      // one or two failures are a reboot or a blip that the back-off retries; three in a row are not
      if (sch.failures >= SCHEDULE_FAILURES_PROBLEM) warnings.push(`the scheduled ${sch.kind} failed ${sch.failures} time(s) in a row: ${sch.last_error ?? 'see `cairn runs`'}`)
      // a schedule overdue by more than its own interval: nothing runs it (serve is down or stuck)
      if (sch.next_at_ns !== null && nowNs - sch.next_at_ns > sch.every_ms * 1e6) {
        warnings.push(`the scheduled ${sch.kind} (every ${formatDuration(sch.every_ms)}) is overdue since ${formatInstant(sch.next_at_ns)}: ${serve.running ? '`cairn serve` runs but has not run it (see its log)' : '`cairn serve` is not running here; start it'}`)
      }
    }
    for (const w of warnings) problems.push(`${volume.name}: ${w}`)
    volumes.push({ name: volume.name, path: volume.path, identity, last_index: summary(runs.find(r => r.kind === 'index' && r.status !== 'running')), files: counts, conflicts, targets, offload, schedules, offloaded_at_risk: offloadedAtRiskNow, warnings, notes })
  }
  const pulls = store.runs.list({ kind: 'pull', limit: 1000 })
  // a volume the config no longer has is no stream: a refused pull of it is not a problem forever
  const configuredVolumeIds = [...config.volumes.keys()].map(n => store.volumes.get(n)?.id).filter((id): id is number => id !== undefined)
  const peers: PeerStatus[] = store.nodes.listPeers().map(p => {
    const last = pulls.find(r => r.peerNodeId === p.id && r.status !== 'running')
    const reach = peerReachability(store, p, nowNs, config.serve.pullEveryMs, configuredVolumeIds)
    if (reach.problem !== null) problems.push(`peer ${p.name ?? p.nodeId}: ${reach.problem}`)
    return {
      name: p.name, node_id: p.nodeId, status: p.revokedAtNs === null ? 'enrolled' : 'revoked', addrs: p.addrs, last_pull: summary(last),
      last_seen_ns: p.lastSeenNs, last_contact_ns: reach.last_contact_ns, problem: reach.problem
    }
  })
  return { node_id: self.nodeId, name: config.name, ok: problems.length === 0, problems, serve, volumes, peers }
}
