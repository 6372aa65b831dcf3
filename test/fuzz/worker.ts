/** The fuzzing worker: runs a slice of inputs and reports progress and the result to the CLI. */
import { parentPort, workerData } from 'node:worker_threads'
import { runFuzz, type FuzzOptions } from './engine.js'

const opts = workerData as Omit<FuzzOptions, 'onProgress'>
const stats = await runFuzz({
  ...opts,
  progressEvery: 50_000,
  onFinding: (finding) => parentPort?.postMessage({ type: 'finding', finding }),
  onProgress: (done, s) => parentPort?.postMessage({ type: 'progress', done, elapsedMs: s.elapsedMs, peakHeapBytes: s.peakHeapBytes, findings: s.findingCount })
})
parentPort?.postMessage({ type: 'done', stats })
