/**
 * The crash-injection harness (issue 14, deliverable 7). For each operation it runs the real CLI
 * once with CAIRN_CRASH_TRACE to list the operation's crash points (so labels and counts are
 * discovered, never hard-coded), then for every point k: restores the stage snapshot, runs the
 * operation with CAIRN_CRASH_AT=k (the victim dies by SIGKILL there), checks the state the kill
 * left, restarts (the same command again, after a fresh `serve` for a killed receiver, so the
 * recovery at start runs), and checks again: invariants, the oracle, nothing lost, and that the
 * re-run converges to the state of a run that was never killed.
 */
import { mkdirSync, readFileSync, rmSync, existsSync } from 'node:fs'
import { createServer, type AddressInfo, type Server } from 'node:net'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { checkDb, checkDryRun, checkNothingLost, dbFacts, diffTrees, readTrees, stagingLeftovers, type DryRun, type Scope, type Trees } from './checks.js'
import { dryRunOffload } from './gate.js'
import { bundleCli } from './bundle.js'
import { buildWorld, useEntry, World, type RunResult, type Variant } from './world.js'

export type OpName = 'push-dir' | 'push-peer' | 'receive' | 'pull' | 'offload' | 'restore'

interface Operation {
  stage: 'pushed' | 'changed' | 'offloaded'
  /** Whose process is killed: laptop's command, or nas's `serve` while laptop pushes to it. */
  victim: 'laptop' | 'nas'
  /** nas serves while the operation runs. */
  serve: boolean
  args: string[]
  scope: Scope
}

export const OPERATIONS: Record<OpName, Operation> = {
  'push-dir': { stage: 'changed', victim: 'laptop', serve: false, args: ['push', 'photos', '--to', 'usb'], scope: { writes: ['usb'] } },
  'push-peer': { stage: 'changed', victim: 'laptop', serve: true, args: ['push', 'photos', '--to', 'nas'], scope: { writes: ['nas'] } },
  receive: { stage: 'changed', victim: 'nas', serve: true, args: ['push', 'photos', '--to', 'nas'], scope: { writes: ['nas'] } },
  pull: { stage: 'pushed', victim: 'laptop', serve: true, args: ['pull', 'nas', 'photos'], scope: { writes: [] } },
  offload: { stage: 'pushed', victim: 'laptop', serve: true, args: ['offload', 'photos', 'a'], scope: { writes: ['laptop'], offloadPrefix: 'a/' } },
  restore: { stage: 'offloaded', victim: 'laptop', serve: false, args: ['restore', 'photos', '--from', 'usb'], scope: { writes: ['laptop'] } }
}

export interface PointResult {
  op: OpName
  k: number
  label: string
  /** The victim died by SIGKILL at the point (false: it was not reached this time). */
  killed: boolean
  problems: string[]
  notes: string[]
  ms: number
}

interface Reference {
  labels: string[]
  /** The operation's first point (a serve's start-up points before it are not the operation's). */
  first: number
  trees: Trees
  passes: string[]
}

/** laptop's `offload photos . --dry-run --per-file` (in this process: test/crash/gate.ts). */
async function dryRun (w: World): Promise<{ report: DryRun | undefined, passes: string[], problem?: string }> {
  const r = await dryRunOffload(w.laptop)
  if (r.report === undefined) return { report: undefined, passes: [], problem: `offload --dry-run failed: ${r.error ?? '?'}` }
  return { report: r.report, passes: (r.report.files ?? []).filter(f => f.outcome === 'offloaded').map(f => f.path).sort() }
}

function readTrace (path: string): string[] {
  if (!existsSync(path)) return []
  return readFileSync(path, 'utf8').split('\n').filter(l => l !== '').map(l => l.slice(l.indexOf(' ') + 1))
}

function lastLine (text: string): string {
  return text.trim().split('\n').filter(l => l.trim() !== '').at(-1) ?? ''
}

/** A clear refusal: exit 1 with one reason on stderr and no stack trace. */
function rerunProblem (r: RunResult): string | undefined {
  if (r.code === 0) return undefined
  const err = r.stderr.trim()
  if (r.code === 1 && err !== '' && !/\n\s+at /.test(err)) return undefined
  return `the re-run after the crash exited ${r.code ?? r.signal} without a clear reason: ${err.slice(0, 400)}`
}

/** Waits until nas's first scheduled pull (of laptop, which never serves) has finished, so a serve's points come in one order. */
async function waitFirstPull (w: World, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  const serve = w.nasServe
  while (Date.now() < deadline) {
    if (serve === undefined || !serve.listening || serve.child.exitCode !== null || serve.child.signalCode !== null) return
    const db = new Database(join(w.nas, 'cairn.db'), { readonly: true, fileMustExist: true })
    let done = false
    try {
      const started = (db.prepare("SELECT max(id) AS id FROM runs WHERE kind = 'pull'").get() as { id: number | null }).id
      const open = db.prepare("SELECT count(*) AS n FROM runs WHERE kind = 'pull' AND status = 'running'").get() as { n: number }
      done = started !== null && started > w.pullsBefore && open.n === 0
    } finally {
      db.close()
    }
    if (done) return
    await new Promise(resolve => setTimeout(resolve, 40))
  }
}

function maxPullRun (w: World): number {
  const db = new Database(join(w.nas, 'cairn.db'), { readonly: true, fileMustExist: true })
  try {
    return (db.prepare("SELECT max(id) AS id FROM runs WHERE kind = 'pull'").get() as { id: number | null }).id ?? 0
  } finally {
    db.close()
  }
}

/**
 * Starts nas's serve; `quiet`: and waits for its first scheduled pull to end, so that the points
 * of a killed serve come in one order (pull and receive do not exclude each other, so a serve
 * that only answers laptop needs no wait).
 */
async function startNas (w: World, env: NodeJS.ProcessEnv = {}, quiet = false): Promise<void> {
  w.pullsBefore = maxPullRun(w)
  await w.startNas(env)
  if (quiet) await waitFirstPull(w)
}

/**
 * Runs the operation once as the victim (with `crash` in its environment, when given) and
 * returns how the victim ended and the trace file.
 */
/**
 * `quiet`: wait for nas's first scheduled pull before pushing (the trace run, and a kill whose
 * label the serve's start-up also produces, where the order decides which occurrence is hit).
 */
async function runVictim (w: World, op: Operation, crash: NodeJS.ProcessEnv, quiet = true): Promise<{ killed: boolean, result: RunResult | undefined, startPoints: number }> {
  if (op.victim === 'laptop') {
    if (op.serve) await startNas(w)
    const r = await w.cli('laptop', [...op.args, '--json'], crash)
    return { killed: r.signal === 'SIGKILL', result: r, startPoints: 0 }
  }
  await startNas(w, crash, quiet)
  const serve = w.nasServe
  // the serve's own start (reaping, its first pull) came before the push: not the receive's points
  const startPoints = crash.CAIRN_CRASH_TRACE === undefined ? 0 : readTrace(crash.CAIRN_CRASH_TRACE).length
  let result: RunResult | undefined
  if (serve?.listening === true) result = await w.cli('laptop', [...op.args, '--json'])
  const end = await w.stopNas()
  return { killed: end?.signal === 'SIGKILL', result, startPoints }
}

export class Harness {
  readonly references = new Map<OpName, Reference>()

  constructor (readonly variant: Variant) {}

  /** The clean run: the list of points, and the state a run that is never killed ends in. */
  async reference (w: World, name: OpName): Promise<Reference> {
    const op = OPERATIONS[name]
    w.restore(op.stage)
    const trace = join(w.root, `trace-${name}.txt`)
    rmSync(trace, { force: true })
    const { result, startPoints } = await runVictim(w, op, { CAIRN_CRASH_TRACE: trace })
    if (result?.code !== 0) throw new Error(`the clean ${name} failed: ${result?.stderr ?? 'no result'}`)
    const labels = readTrace(trace)
    await w.stopNas()
    const dry = await dryRun(w)
    if (dry.problem !== undefined) throw new Error(`after the clean ${name}: ${dry.problem}`)
    const ref = { labels, first: startPoints + 1, trees: readTrees(w), passes: dry.passes }
    this.references.set(name, ref)
    return ref
  }

  async point (w: World, name: OpName, k: number): Promise<PointResult> {
    const t0 = performance.now()
    const op = OPERATIONS[name]
    const ref = this.references.get(name)
    if (ref === undefined) throw new Error(`no reference for ${name}`)
    const problems: string[] = []
    const notes: string[] = []
    w.restore(op.stage)
    const before = readTrees(w)
    const sources = new Set(Object.values(before).flatMap(t => [...t.values()]))
    const facts = { laptop: dbFacts(w.laptop), nas: dbFacts(w.nas) }
    const trace = join(w.root, `kill-${name}-${k}.txt`)
    rmSync(trace, { force: true })

    // the kill: point k of the trace is the j-th point whose label contains its label, so the
    // kill finds it even when concurrent commits (a pool of eight) interleave differently
    const want = ref.labels[k - 1] ?? '?'
    const j = ref.labels.slice(0, k).filter(l => l.includes(want)).length
    const sharedWithStart = ref.labels.slice(0, ref.first - 1).some(l => l.includes(want) || want.includes(l))
    const victim = await runVictim(w, op, { CAIRN_CRASH_MATCH: want, CAIRN_CRASH_AT: String(j), CAIRN_CRASH_TRACE: trace }, sharedWithStart)
    const reached = readTrace(trace)
    const label = victim.killed ? (reached[j - 1] ?? want) : want
    if (victim.killed && label !== want) notes.push(`point ${k} (${want}) met ${label} as its ${j}-th match`)
    if (!victim.killed) notes.push(`point ${k} (${want}) not reached: ${reached.length} of its matches this time`)
    // a killed laptop leaves nas serving through the restart (nas was never killed)
    if (op.victim === 'nas') await w.stopNas()

    // the state the kill left, before anything recovers
    const crashed = readTrees(w)
    const tag = (phase: string) => (p: string): string => `${phase}: ${p}`
    problems.push(...checkDb(w, w.laptop, crashed, { self: 'laptop', afterRestart: false, before: facts.laptop }).map(tag('after the kill, laptop')))
    problems.push(...checkDb(w, w.nas, crashed, { self: 'nas', afterRestart: false, before: facts.nas }).map(tag('after the kill, nas')))
    problems.push(...checkNothingLost(w, before, crashed, op.scope, sources).map(tag('after the kill')))
    const dry = await dryRun(w)
    if (dry.problem !== undefined) problems.push(`after the kill: ${dry.problem}`)
    else if (dry.report !== undefined) problems.push(...checkDryRun(w, dry.report, crashed).map(tag('after the kill')))

    // the restart: a fresh serve for a killed nas (its recovery at start), then the same command again
    if (op.victim === 'nas') await startNas(w)
    const rerun = await w.cli('laptop', [...op.args, '--json'])
    const bad = rerunProblem(rerun)
    if (bad !== undefined) problems.push(bad)
    // nas's one scheduled pull (of laptop, which never serves) may still be dialling on a loaded machine
    await waitFirstPull(w)
    const restarted = readTrees(w)
    problems.push(...checkDb(w, w.laptop, restarted, { self: 'laptop', afterRestart: true, before: facts.laptop }).map(tag('after the restart, laptop')))
    problems.push(...checkDb(w, w.nas, restarted, { self: 'nas', afterRestart: true, before: facts.nas }).map(tag('after the restart, nas')))
    problems.push(...checkNothingLost(w, before, restarted, op.scope, sources).map(tag('after the restart')))
    if (bad === undefined && rerun.code !== 0) {
      // refused with a reason: do the act it names when it is an index, then run it once more
      const reason = /"reason": "([^"]*)"/.exec(rerun.stdout)?.[1] ?? lastLine(rerun.stderr)
      notes.push(`re-run refused: ${reason}`)
      if (/\bindex\b/.test(rerun.stderr + rerun.stdout)) {
        await w.cli('laptop', ['index', 'photos'])
        const again = await w.cli('laptop', [...op.args, '--json'])
        notes.push(`after \`index photos\` the re-run exited ${again.code ?? again.signal}${again.code === 0 ? '' : `: ${lastLine(again.stderr)}`}`)
      }
    }
    const dry2 = await dryRun(w)
    await w.stopNas()
    const final = readTrees(w)
    problems.push(...checkNothingLost(w, before, final, op.scope, sources).map(tag('after the restart and re-run')))
    if (dry2.problem !== undefined) problems.push(`after the restart: ${dry2.problem}`)
    else if (dry2.report !== undefined) {
      problems.push(...checkDryRun(w, dry2.report, final).map(tag('after the restart')))
      const lostPasses = ref.passes.filter(p => !dry2.passes.includes(p))
      if (lostPasses.length > 0) problems.push(`after the restart the gate no longer passes what a clean ${name} leaves passable: ${lostPasses.join(', ')}`)
    }
    const diff = diffTrees(final, ref.trees)
    if (diff.length > 0) problems.push(`after the restart the trees differ from a clean ${name}: ${diff.slice(0, 6).join('; ')}`)
    const leftovers = stagingLeftovers(w)
    if (leftovers.length > 0) notes.push(`staging left after the restart: ${leftovers.slice(0, 4).join(', ')}`)
    rmSync(trace, { force: true })
    return { op: name, k, label, killed: victim.killed, problems, notes, ms: Math.round(performance.now() - t0) }
  }
}

/** Ports nobody listens on right now (127.0.0.1), for nas's fixed listen address. */
async function freePorts (n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, async () => await new Promise<Server>((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => { resolve(s) })
  })))
  const ports = servers.map(s => (s.address() as AddressInfo).port)
  await Promise.all(servers.map(async s => { await new Promise(resolve => s.close(resolve)) }))
  return ports
}

export interface CampaignInit {
  variant: Variant
  ops: OpName[]
  /** Parallel slots (one world each, its own root and nas port). */
  slots: number
  root: string
  /** nas's port in slot i is ports[i]; default: free ports picked now. */
  ports?: number[]
  /** Called after each point (progress). */
  onPoint?: (r: PointResult, done: number, total: number) => void
}

export interface Campaign {
  points: Record<string, number>
  /** Labels of the trace run no kill met (each label must be killed at least once). */
  uncovered: Record<string, string[]>
  results: PointResult[]
  buildMs: number
  totalMs: number
}

/** Builds one world per slot, traces every operation, then kills every point of each, slots in parallel. */
export async function runCampaign (init: CampaignInit): Promise<Campaign> {
  const t0 = performance.now()
  mkdirSync(init.root, { recursive: true })
  useEntry(await bundleCli())
  const ports = init.ports ?? await freePorts(init.slots)
  const worlds = Array.from({ length: init.slots }, (_, i) => new World(join(init.root, `slot${i}`), ports[i] ?? 0, init.variant))
  await Promise.all(worlds.map(async w => { await buildWorld(w) }))
  const buildMs = Math.round(performance.now() - t0)
  const h = new Harness(init.variant)
  // traces, shared out over the slots
  const traceQueue = [...init.ops]
  await Promise.all(worlds.map(async w => {
    for (let op = traceQueue.shift(); op !== undefined; op = traceQueue.shift()) await h.reference(w, op)
  }))
  const jobs = init.ops.flatMap(op => {
    const ref = h.references.get(op)
    return (ref?.labels ?? []).map((_, i) => ({ op, k: i + 1 })).filter(j => j.k >= (ref?.first ?? 1))
  })
  const results: PointResult[] = []
  await Promise.all(worlds.map(async w => {
    for (let job = jobs.shift(); job !== undefined; job = jobs.shift()) {
      const r = await h.point(w, job.op, job.k)
      results.push(r)
      init.onPoint?.(r, results.length, results.length + jobs.length)
    }
  }))
  results.sort((a, b) => a.op.localeCompare(b.op) || a.k - b.k)
  const points = Object.fromEntries(init.ops.map(op => { const ref = h.references.get(op); return [op, ref === undefined ? 0 : ref.labels.length - ref.first + 1] }))
  const uncovered = Object.fromEntries(init.ops.map(op => {
    const killedAt = new Set(results.filter(r => r.op === op && r.killed).map(r => r.label))
    const ref = h.references.get(op)
    return [op, [...new Set(ref?.labels.slice((ref.first) - 1) ?? [])].filter(l => !killedAt.has(l))]
  }))
  return { points, uncovered, results, buildMs, totalMs: Math.round(performance.now() - t0) }
}
