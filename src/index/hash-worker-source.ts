/**
 * The source of a hashing worker thread (src/index/hash-pool.ts starts it with `eval`, so the
 * same text runs under tsx, vitest and the compiled dist/ without a build step or a loader).
 *
 * It makes exactly the checks of hashFile (src/index/hash-file.ts), with synchronous calls (a
 * worker has nothing else to do, and each async call costs a trip through the libuv pool):
 * one handle opened with O_NOFOLLOW, fstat before and after the read, the size read equal to
 * the handle's size, mtime unchanged, and the path still naming the same inode; a file that
 * changed is hashed again, up to `attempts` times, then reported as changing.
 *
 * One shortcut, no weaker: the read stops once it has read the size the handle had before (a
 * file that grew meanwhile has another size after, and is retried), so a small file costs one
 * read(2), not two.
 *
 * Messages in: `{ jobs: Array<{ id, path, sync, pause }> }` (a `sync` job fsyncs the file through
 * a handle opened the same way instead of hashing it). Out, one per batch: `{ done: [...],
 * digests }` where `digests` holds 32 bytes per successful job at its `at` offset; and, for a job
 * with `pause` (tests), `{ paused: id, attempt }` after the first chunk, then it waits on the
 * shared gate until the pool lets it go on.
 */
export const HASH_WORKER_SOURCE = String.raw`
'use strict'
const { parentPort, workerData } = require('node:worker_threads')
const fs = require('node:fs')
const { createHash } = require('node:crypto')
const buffer = Buffer.allocUnsafe(workerData.bufferBytes)
const flags = workerData.flags
const attempts = workerData.attempts
const gate = new Int32Array(workerData.gate)

function once (path, attempt, pause, id) {
  const fd = fs.openSync(path, flags)
  try {
    const before = fs.fstatSync(fd, { bigint: true })
    const expected = Number(before.size)
    const h = createHash('sha256')
    let size = 0
    for (;;) {
      const n = fs.readSync(fd, buffer, 0, buffer.length, size)
      if (n === 0) break
      h.update(n === buffer.length ? buffer : buffer.subarray(0, n))
      if (size === 0 && pause) {
        Atomics.store(gate, 0, 0)
        parentPort.postMessage({ paused: id, attempt })
        Atomics.wait(gate, 0, 0)
      }
      size += n
      if (size === expected && n < buffer.length) break
    }
    const after = fs.fstatSync(fd, { bigint: true })
    const byPath = fs.lstatSync(path, { bigint: true })
    if (after.size !== before.size || after.mtimeNs !== before.mtimeNs || BigInt(size) !== after.size ||
        byPath.ino !== after.ino || byPath.dev !== after.dev) {
      return undefined
    }
    return { digest: h.digest(), size, mtimeNs: Number(after.mtimeNs), ctimeNs: Number(after.ctimeNs), ino: after.ino.toString() }
  } finally {
    fs.closeSync(fd)
  }
}

parentPort.on('message', (msg) => {
  const jobs = msg.jobs
  const done = []
  const digests = new Uint8Array(32 * jobs.length)
  let at = 0
  for (const job of jobs) {
    try {
      if (job.sync) {
        const fd = fs.openSync(job.path, flags)
        try {
          fs.fsyncSync(fd)
        } finally {
          fs.closeSync(fd)
        }
        done.push({ id: job.id, synced: true })
        continue
      }
      let r
      for (let attempt = 1; attempt <= attempts && r === undefined; attempt++) r = once(job.path, attempt, job.pause, job.id)
      if (r === undefined) {
        done.push({ id: job.id, changed: true })
      } else {
        digests.set(r.digest, at)
        done.push({ id: job.id, at, size: r.size, mtimeNs: r.mtimeNs, ctimeNs: r.ctimeNs, ino: r.ino })
        at += 32
      }
    } catch (err) {
      done.push({ id: job.id, error: { code: err && err.code, name: err && err.name, message: String(err && err.message) } })
    }
  }
  parentPort.postMessage({ done, digests }, [digests.buffer])
})
`
