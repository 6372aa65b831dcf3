/** Generates a reproducible photo-like tree: a few large files and many small ones. */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface TreeSpec {
  largeFiles: number
  largeBytes: number
  smallFiles: number
  smallBytes: number
}

export const FULL_TREE: TreeSpec = { largeFiles: 96, largeBytes: 8 * 1024 * 1024, smallFiles: 4000, smallBytes: 64 * 1024 }
export const QUICK_TREE: TreeSpec = { largeFiles: 4, largeBytes: 1024 * 1024, smallFiles: 100, smallBytes: 16 * 1024 }

/** Deterministic pseudo-random bytes (xorshift), so every run hashes the same data. */
function fill (buf: Buffer, seed: number): void {
  let x = seed | 1
  for (let i = 0; i + 4 <= buf.length; i += 4) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5
    buf.writeInt32LE(x, i)
  }
}

export function makeTree (root: string, spec: TreeSpec): { files: number, bytes: number } {
  mkdirSync(root, { recursive: true })
  const large = Buffer.alloc(spec.largeBytes)
  const small = Buffer.alloc(spec.smallBytes)
  for (let i = 0; i < spec.largeFiles; i++) {
    const dir = join(root, `videos/${2010 + (i % 10)}`)
    mkdirSync(dir, { recursive: true })
    fill(large, i + 1)
    writeFileSync(join(dir, `clip-${i}.mp4`), large)
  }
  for (let i = 0; i < spec.smallFiles; i++) {
    const dir = join(root, `photos/${2010 + (i % 10)}/${i % 37}`)
    mkdirSync(dir, { recursive: true })
    fill(small, 100_000 + i)
    writeFileSync(join(dir, `img-${i}.jpg`), small)
  }
  return { files: spec.largeFiles + spec.smallFiles, bytes: spec.largeFiles * spec.largeBytes + spec.smallFiles * spec.smallBytes }
}

/**
 * `files` files of 2 KB under photos/<year>/<n>/ (1,000 directories at 100,000 files), each with
 * distinct bytes: the many-small-files tree of issue 15 and 17.
 */
export function makeSmallTree (root: string, files: number): void {
  const buf = Buffer.alloc(2048)
  for (let i = 0; i < files; i++) {
    const d = join(root, `photos/${2010 + (i % 10)}/${i % 100}`)
    if (i < 1000) mkdirSync(d, { recursive: true })
    buf.writeUInt32LE(i, 0)
    writeFileSync(join(d, `img-${i}.jpg`), buf)
  }
}

/**
 * The shell command of the hashing anchor of issue 17: `openssl dgst -sha256` on 2 processes
 * over every file of the tree (xargs hands each process a slice of the list; 16 slices keep the
 * two busy to the end without paying a process start per file).
 */
export function opensslTwoProcesses (root: string, files: number): string {
  const perSlice = Math.max(1, Math.ceil(files / 16))
  return `find "${root}" -type f -print0 | xargs -0 -P 2 -n ${perSlice} openssl dgst -sha256 > /dev/null`
}
