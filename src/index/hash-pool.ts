/**
 * Hashing on every core: a small pool of worker threads (min(2, availableParallelism()) by
 * default) that hash files with the guarantees of hashFile (src/index/hash-file.ts) — one
 * handle opened with O_NOFOLLOW, size and mtime unchanged through the read, the path still
 * naming the same inode, retries, then FileChangedWhileHashingError — so the index (and later
 * the push read-back and the receiver's re-hash) can hash while the calling thread walks and
 * writes the store.
 *
 * The read instant is not the pool's business: a caller takes it before calling hash() (so
 * before the worker reads), which only makes it earlier, never later, than the read.
 *
 * Small runs pay for no thread: the first files (INLINE_FILES, or INLINE_BYTES) are hashed on
 * the calling thread with hashFile, and the workers start only when more come. Jobs go to the
 * workers in batches (one message per BATCH_FILES files or BATCH_BYTES bytes, to the worker with
 * the least outstanding), so a 2 KB file costs a share of a message, not one. What is queued is
 * bounded: callers wait on room() before adding (at most MAX_QUEUED_FILES_PER_THREAD files and
 * MAX_QUEUED_BYTES_PER_THREAD bytes outstanding per thread), so an interrupt never waits on
 * more than a few hundred megabytes of hashing, and memory does not grow with the tree.
 *
 * A worker that dies (a bug, an out-of-memory) loses nothing: its outstanding files are hashed
 * again on the calling thread, and the pool goes on with the workers it has left.
 */
import { open } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { HashWorkerFailedError } from '../errors.js'
import type { Logger } from '../logger.js'
import { FileChangedWhileHashingError, hashFile, HASH_ATTEMPTS, HASH_BUFFER_BYTES, READ_NO_FOLLOW, type HashedFile, type HashHooks } from './hash-file.js'
import { HASH_WORKER_SOURCE } from './hash-worker-source.js'

export const INLINE_FILES = 64
export const INLINE_BYTES = 32 * 1024 * 1024
export const BATCH_FILES = 64
export const BATCH_BYTES = 4 * 1024 * 1024
export const MAX_QUEUED_FILES_PER_THREAD = 512
export const MAX_QUEUED_BYTES_PER_THREAD = 64 * 1024 * 1024
/** What a file is counted as in the byte budgets besides its bytes (the syscalls around it). */
const FILE_OVERHEAD_BYTES = 4096

export interface HashPoolInit {
  /** Worker threads at most; default min(2, availableParallelism()). 0: everything on the calling thread. */
  threads?: number
  /** Files hashed on the calling thread before any worker starts. */
  inlineFiles?: number
  /** Bytes (by the callers' size hints) hashed on the calling thread before any worker starts. */
  inlineBytes?: number
  logger?: Logger
  /** Tests: the worker's source (a worker that fails). */
  workerSource?: string
}

export interface HashOptions {
  /** The file's size as the walk saw it (for batching and the byte budget; not trusted for anything else). */
  sizeHint?: number
  /** Tests: called after the first chunk of each attempt, while the reading thread waits. */
  hooks?: HashHooks
}

export interface HashPoolStats {
  /** Worker threads started so far. */
  threadsStarted: number
  workersFailed: number
  filesInline: number
  filesInWorkers: number
  /** The most files outstanding at once. */
  maxOutstandingFiles: number
  maxOutstandingBytes: number
}

export interface HashPool {
  /** Hashes one file as hashFile does (rejects with the same errors: FileChangedWhileHashingError, an fs error with its code). */
  hash: (path: string, options?: HashOptions) => Promise<HashedFile>
  /**
   * fsync(2)s one file (opened read-only, never through a symlink) on a worker, batched like
   * hashes: a push's many small fsyncs cost the calling thread a share of a message each.
   */
  sync: (path: string) => Promise<void>
  /** Whether another hash() stays within the bounds (callers check before adding one). */
  hasRoom: () => boolean
  /** Resolves when hasRoom() is true. */
  room: () => Promise<void>
  readonly stats: HashPoolStats
  /** Stops the workers (after the caller's outstanding hashes settled). */
  close: () => Promise<void>
}

export function defaultHashThreads (): number {
  return Math.max(1, Math.min(2, availableParallelism()))
}

interface Job {
  id: number
  path: string
  /** fsync instead of hashing. */
  sync: boolean
  cost: number
  hooks: HashHooks | undefined
  resolve: (h: HashedFile) => void
  reject: (err: unknown) => void
  worker?: PoolWorker
}

interface PoolWorker {
  worker: Worker
  gate: Int32Array
  jobs: Map<number, Job>
  outstandingCost: number
  dead: boolean
}

interface DoneMessage {
  done: Array<{ id: number, at?: number, size?: number, mtimeNs?: number, ctimeNs?: number, ino?: string, changed?: true, synced?: true, error?: { code?: string, name?: string, message: string } }>
  digests: Uint8Array
}

export function createHashPool (init: HashPoolInit = {}): HashPool {
  return new WorkerHashPool(init)
}

class WorkerHashPool implements HashPool {
  readonly stats: HashPoolStats = { threadsStarted: 0, workersFailed: 0, filesInline: 0, filesInWorkers: 0, maxOutstandingFiles: 0, maxOutstandingBytes: 0 }
  readonly #threads: number
  readonly #inlineFiles: number
  readonly #inlineBytes: number
  readonly #logger: Logger | undefined
  readonly #source: string
  readonly #maxFiles: number
  readonly #maxBytes: number
  #workers: PoolWorker[] = []
  #started = false
  #closed = false
  #nextId = 1
  #submittedFiles = 0
  #submittedBytes = 0
  #outstandingFiles = 0
  #outstandingBytes = 0
  #pending: Job[] = []
  #pendingBytes = 0
  #flushScheduled = false
  #roomWaiters: Array<() => void> = []

  constructor (init: HashPoolInit) {
    this.#threads = init.threads ?? defaultHashThreads()
    this.#inlineFiles = init.inlineFiles ?? INLINE_FILES
    this.#inlineBytes = init.inlineBytes ?? INLINE_BYTES
    this.#logger = init.logger
    this.#source = init.workerSource ?? HASH_WORKER_SOURCE
    const threads = Math.max(1, this.#threads)
    this.#maxFiles = MAX_QUEUED_FILES_PER_THREAD * threads
    this.#maxBytes = MAX_QUEUED_BYTES_PER_THREAD * threads
  }

  hasRoom (): boolean {
    return this.#outstandingFiles < this.#maxFiles && this.#outstandingBytes < this.#maxBytes
  }

  async room (): Promise<void> {
    while (!this.hasRoom()) await new Promise<void>(resolve => this.#roomWaiters.push(resolve))
  }

  async hash (path: string, options: HashOptions = {}): Promise<HashedFile> {
    return await this.#submit(path, false, options)
  }

  async sync (path: string): Promise<void> {
    await this.#submit(path, true, {})
  }

  async #submit (path: string, sync: boolean, options: HashOptions): Promise<HashedFile> {
    if (this.#closed) throw new HashWorkerFailedError('the hash pool is closed')
    const cost = (sync ? 0 : (options.sizeHint ?? 0)) + FILE_OVERHEAD_BYTES
    this.#submittedFiles++
    this.#submittedBytes += cost
    this.#outstandingFiles++
    this.#outstandingBytes += cost
    if (this.#outstandingFiles > this.stats.maxOutstandingFiles) this.stats.maxOutstandingFiles = this.#outstandingFiles
    if (this.#outstandingBytes > this.stats.maxOutstandingBytes) this.stats.maxOutstandingBytes = this.#outstandingBytes
    try {
      if (this.#threads <= 0 || (!this.#started && this.#submittedFiles <= this.#inlineFiles && this.#submittedBytes <= this.#inlineBytes)) {
        this.stats.filesInline++
        return await inlineJob(path, sync, options.hooks)
      }
      this.#start()
      if (this.#workers.length === 0) {
        this.stats.filesInline++
        return await inlineJob(path, sync, options.hooks)
      }
      return await new Promise<HashedFile>((resolve, reject) => {
        this.#pending.push({ id: this.#nextId++, path, sync, cost, hooks: options.hooks, resolve, reject })
        this.#pendingBytes += cost
        if (this.#pending.length >= BATCH_FILES || this.#pendingBytes >= BATCH_BYTES) this.#flush()
        else if (!this.#flushScheduled) {
          this.#flushScheduled = true
          setImmediate(() => { this.#flushScheduled = false; this.#flush() })
        }
      })
    } finally {
      this.#outstandingFiles--
      this.#outstandingBytes -= cost
      if (this.#roomWaiters.length > 0 && this.hasRoom()) {
        const waiters = this.#roomWaiters
        this.#roomWaiters = []
        for (const w of waiters) w()
      }
    }
  }

  async close (): Promise<void> {
    this.#closed = true
    const workers = this.#workers
    this.#workers = []
    await Promise.all(workers.map(async w => { w.dead = true; await w.worker.terminate() }))
  }

  #start (): void {
    if (this.#started) return
    this.#started = true
    for (let i = 0; i < this.#threads; i++) {
      const gate = new Int32Array(new SharedArrayBuffer(4))
      const worker = new Worker(this.#source, {
        eval: true,
        workerData: { bufferBytes: HASH_BUFFER_BYTES, flags: READ_NO_FOLLOW, attempts: HASH_ATTEMPTS, gate: gate.buffer }
      })
      // an idle worker keeps no process alive (a caller that forgot close() does not hang); one
      // with files outstanding does, or a process waiting only on its replies would exit mid-run
      worker.unref()
      const w: PoolWorker = { worker, gate, jobs: new Map(), outstandingCost: 0, dead: false }
      worker.on('message', (msg: DoneMessage | { paused: number, attempt: number }) => {
        if ('paused' in msg) this.#paused(w, msg.paused, msg.attempt)
        else this.#done(w, msg)
      })
      worker.on('error', (err) => { this.#failed(w, err) })
      worker.on('exit', (code) => { if (!w.dead) this.#failed(w, new Error(`exited with code ${code}`)) })
      this.#workers.push(w)
      this.stats.threadsStarted++
    }
  }

  #flush (): void {
    if (this.#pending.length === 0) return
    const jobs = this.#pending
    this.#pending = []
    this.#pendingBytes = 0
    const live = this.#workers
    if (live.length === 0) {
      for (const job of jobs) this.#inline(job)
      return
    }
    let target = live[0] as PoolWorker
    for (const w of live) if (w.outstandingCost < target.outstandingCost) target = w
    for (const job of jobs) {
      job.worker = target
      target.jobs.set(job.id, job)
      target.outstandingCost += job.cost
    }
    this.stats.filesInWorkers += jobs.length
    if (target.jobs.size === jobs.length) target.worker.ref()
    target.worker.postMessage({ jobs: jobs.map(j => ({ id: j.id, path: j.path, sync: j.sync, pause: j.hooks?.afterFirstChunk !== undefined })) })
  }

  #done (w: PoolWorker, msg: DoneMessage): void {
    const digests = msg.digests
    for (const d of msg.done) {
      const job = w.jobs.get(d.id)
      if (job === undefined) continue
      w.jobs.delete(d.id)
      w.outstandingCost -= job.cost
      if (d.synced === true) {
        job.resolve(SYNCED)
      } else if (d.changed === true) {
        job.reject(new FileChangedWhileHashingError(job.path, HASH_ATTEMPTS))
      } else if (d.error !== undefined) {
        const err = new Error(d.error.message) as NodeJS.ErrnoException
        if (d.error.code !== undefined && d.error.code !== null) err.code = d.error.code
        job.reject(err)
      } else {
        const h: HashedFile = {
          hash: Buffer.from(digests.buffer, digests.byteOffset + (d.at as number), 32),
          size: d.size as number,
          mtimeNs: d.mtimeNs as number,
          ctimeNs: d.ctimeNs as number,
          ino: d.ino as string
        }
        job.resolve(h)
      }
    }
    if (w.jobs.size === 0) w.worker.unref()
  }

  #paused (w: PoolWorker, id: number, attempt: number): void {
    const job = w.jobs.get(id)
    const go = (): void => { Atomics.store(w.gate, 0, 1); Atomics.notify(w.gate, 0) }
    const hook = job?.hooks?.afterFirstChunk
    if (hook === undefined) { go(); return }
    hook(attempt).then(go, go)
  }

  #failed (w: PoolWorker, err: unknown): void {
    if (w.dead) return
    w.dead = true
    this.stats.workersFailed++
    this.#workers = this.#workers.filter(x => x !== w)
    const lost = [...w.jobs.values()]
    w.jobs.clear()
    w.outstandingCost = 0
    this.#logger?.warn('a hashing worker failed; its files are hashed on the main thread', { error: err instanceof Error ? err.message : String(err), files: lost.length, workers_left: this.#workers.length })
    void w.worker.terminate()
    // each lost file is hashed again from the start: nothing the dead worker read is used
    for (const job of lost) this.#inline(job)
  }

  #inline (job: Job): void {
    this.stats.filesInline++
    inlineJob(job.path, job.sync, job.hooks).then(job.resolve, job.reject)
  }
}

/** What a sync job resolves with inside the pool (sync() itself resolves with nothing). */
const SYNCED: HashedFile = { hash: Buffer.alloc(0), size: 0, mtimeNs: 0 }

/** A job on the calling thread: a hash as hashFile does it, or an fsync of the file. */
async function inlineJob (path: string, sync: boolean, hooks: HashHooks | undefined): Promise<HashedFile> {
  if (!sync) return await hashFile(path, undefined, hooks)
  const fh = await open(path, READ_NO_FOLLOW)
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
  return SYNCED
}

/**
 * A pool of no threads around a given hash function (tests inject one that fails or changes
 * files): at most `concurrency` files at once, each with its own buffer of HASH_BUFFER_BYTES.
 */
export function createInlineHashPool (hash: typeof hashFile, concurrency: number): HashPool {
  const buffers: Buffer[] = Array.from({ length: Math.max(1, concurrency) }, () => Buffer.allocUnsafe(HASH_BUFFER_BYTES))
  let outstanding = 0
  let waiters: Array<() => void> = []
  const stats: HashPoolStats = { threadsStarted: 0, workersFailed: 0, filesInline: 0, filesInWorkers: 0, maxOutstandingFiles: 0, maxOutstandingBytes: 0 }
  const hasRoom = (): boolean => buffers.length > 0
  return {
    stats,
    hasRoom,
    room: async () => { while (!hasRoom()) await new Promise<void>(resolve => waiters.push(resolve)) },
    hash: async (path, options = {}) => {
      const buffer = buffers.pop()
      if (buffer === undefined) throw new HashWorkerFailedError('no room: wait on room() before hash()')
      outstanding++
      stats.filesInline++
      if (outstanding > stats.maxOutstandingFiles) stats.maxOutstandingFiles = outstanding
      try {
        return await hash(path, buffer, options.hooks)
      } finally {
        outstanding--
        buffers.push(buffer)
        const w = waiters
        waiters = []
        for (const resolve of w) resolve()
      }
    },
    sync: async (path) => { await inlineJob(path, true, undefined) },
    close: async () => {}
  }
}
