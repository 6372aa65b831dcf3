/**
 * `npm run fuzz -- [--seed N] [--inputs N] [--decoder a,b|all] [--canonical] [--findings DIR] [--replay DIR]`
 *
 * Runs the fuzzer in one worker thread whose V8 old generation is capped at HEAP_CAP_MB
 * (resourceLimits.maxOldGenerationSizeMb): a decoder that needs more dies with
 * ERR_WORKER_OUT_OF_MEMORY, which is a finding. Prints inputs/s, per-decoder counts and peak
 * heap; writes each finding (seed, index, decoder, input) as JSON into the findings directory,
 * where test/fuzz/fuzz.test.ts replays it as a regression test; exits 1 on any finding.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Worker } from 'node:worker_threads'
import { MAX_FINDINGS, replayFinding, TARGET_NAMES, type Finding, type FuzzStats } from './engine.js'

/** The fuzzing worker's heap cap (V8 old generation), in MiB. */
export const HEAP_CAP_MB = 256

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    inputs: { type: 'string', default: '1000000' },
    decoder: { type: 'string', default: 'all' },
    canonical: { type: 'boolean', default: false },
    findings: { type: 'string', default: 'test/fuzz/findings' },
    replay: { type: 'string' }
  }
})

const out = (line: string): void => { process.stdout.write(`${line}\n`) }

function findingFile (f: Finding): string {
  return join(values.findings, `${f.target}-${f.seed}-${f.index}.json`)
}

function writeFinding (f: Finding): void {
  mkdirSync(values.findings, { recursive: true })
  writeFileSync(findingFile(f), `${JSON.stringify(f, null, 2)}\n`)
}

async function replay (dir: string): Promise<number> {
  let bad = 0
  for (const file of readdirSync(dir).filter(f => f.endsWith('.json')).sort()) {
    const f = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Finding
    const again = await replayFinding(f, { canonicalAll: values.canonical })
    out(`${again === undefined ? 'fixed ' : 'FOUND '} ${file}${again === undefined ? '' : `: ${again.kind}: ${again.detail}`}`)
    if (again !== undefined) bad++
  }
  return bad
}

function runWorker (): Promise<FuzzStats> {
  const decoders = values.decoder === 'all' ? TARGET_NAMES : values.decoder.split(',')
  // a worker gets no loader hooks from --import: it registers tsx itself, then loads worker.ts
  const bootstrap = `import('tsx/esm/api').then(m => { m.register(); return import(${JSON.stringify(new URL('./worker.ts', import.meta.url).href)}) })`
  const worker = new Worker(bootstrap, {
    eval: true,
    workerData: { seed: Number(values.seed), inputs: Number(values.inputs), targets: decoders, canonicalAll: values.canonical },
    resourceLimits: { maxOldGenerationSizeMb: HEAP_CAP_MB }
  })
  return new Promise((resolve, reject) => {
    let written = 0
    worker.on('message', (m: { type: string, done: number, elapsedMs: number, peakHeapBytes: number, findings: number, stats: FuzzStats, finding: Finding }) => {
      if (m.type === 'finding') {
        // written as found, so a run that dies later keeps them
        if (written++ < MAX_FINDINGS) writeFinding(m.finding)
      } else if (m.type === 'progress') out(`${m.done} inputs, ${Math.round(m.done / (m.elapsedMs / 1000))}/s, peak heap ${(m.peakHeapBytes / 2 ** 20).toFixed(1)} MiB, ${m.findings} findings`)
      else resolve(m.stats)
    })
    worker.on('error', reject)
    worker.on('exit', code => { if (code !== 0) reject(new Error(`the fuzzing worker exited with code ${code}`)) })
  })
}

async function main (): Promise<number> {
  if (values.replay !== undefined) return await replay(values.replay) > 0 ? 1 : 0
  const t0 = performance.now()
  let stats: FuzzStats
  try {
    stats = await runWorker()
  } catch (err) {
    out(`FINDING: the worker died (${err instanceof Error ? `${(err as NodeJS.ErrnoException).code ?? err.name}: ${err.message}` : String(err)}); heap cap ${HEAP_CAP_MB} MiB`)
    return 1
  }
  const wall = (performance.now() - t0) / 1000
  out(`seed ${stats.seed}: ${stats.inputs} inputs in ${wall.toFixed(1)} s (${Math.round(stats.inputs / wall)}/s), peak heap ${(stats.peakHeapBytes / 2 ** 20).toFixed(1)} MiB of a ${HEAP_CAP_MB} MiB cap${values.canonical ? ', strict base64url for invites too' : ''}`)
  out('decoder               inputs  accepted   refused  indeterminate  inconclusive  max ms (CPU; frames: wall)')
  for (const [name, s] of Object.entries(stats.targets)) {
    out(`${name.padEnd(20)} ${String(s.inputs).padStart(7)} ${String(s.accepted).padStart(9)} ${String(s.refused).padStart(9)} ${String(s.indeterminate).padStart(14)} ${String(s.inconclusive).padStart(13)} ${s.maxMs.toFixed(1).padStart(7)}`)
  }
  if (stats.findingCount === 0) { out('no findings'); return 0 }
  for (const f of stats.findings) out(`FINDING ${f.kind} ${f.target} seed ${f.seed} index ${f.index}: ${f.detail} → ${findingFile(f)}`)
  out(`${stats.findingCount} findings (${stats.findings.length} written to ${values.findings})`)
  return 1
}

process.exitCode = await main()
