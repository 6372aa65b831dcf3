/**
 * The receiver's decision for one plan entry before anything is written (DESIGN invariant 25:
 * a receiver never destroys what it does not own). It compares the file on disk with the row
 * this node indexed at that path (size and mtime; the hash when in doubt), and the row with the
 * version the pusher's entry replaces:
 *
 *  - nothing on disk (or no row: the commit's create-exclusive link finds what is there): the
 *    entry may be written into the free name;
 *  - the disk holds the entry's content already (indexed, or found by hashing): held;
 *  - the disk holds this node's indexed version, and the entry descends from it — the same
 *    origin node at an equal or later run, or the entry says it replaces exactly that content:
 *    it may replace it (that file, checked again at the commit, moves to history);
 *  - the disk holds the file this node's own re-hash found damaged or unreadable (its row is
 *    marked, and its size and mtime are as recorded): it may replace it (to history);
 *  - otherwise a conflict, and the file stays untouched: `local-edit` (the disk differs from the
 *    indexed row: an unindexed edit), `diverged` (the indexed row is newer than or unrelated to
 *    what the entry replaces: e.g. this node indexed its own edit), `occupied` (a directory,
 *    link or unindexed file is where the entry would go).
 */
import type { PlanEntry } from '../protocol/messages.js'
import type { ConflictKind } from '../store/conflicts.js'
import type { LiveFile } from '../store/files.js'
import type { DirectoryFs, FileInfo } from './directory-fs.js'
import type { CommitExpectation } from './place-file.js'

/**
 * A file whose size or mtime differs from its row is hashed to see whether it still holds that
 * content (or the pusher's) only up to this size; a larger one is a conflict without reading it,
 * so a pusher never waits on a huge re-hash before the plan reply (the receiver's next index
 * settles what it is).
 */
export const HASH_IN_DOUBT_MAX_BYTES = 64 * 1024 * 1024

export type Verdict =
  /** The disk holds the entry's content; `mtimeNs` as found; `reread`: it was hashed just now. */
  | { kind: 'held', mtimeNs: number, reread: boolean }
  | { kind: 'write', expect: CommitExpectation }
  | { kind: 'conflict', conflict: ConflictKind, localFileId: number | null }

export interface JudgeInput {
  fs: DirectoryFs
  abs: string
  entry: PlanEntry
  /** The node row id of the entry's origin node. */
  entryOriginNodeId: number
  /**
   * When the entry claims this node itself as its origin: whether this node ever recorded that
   * content at that path under that run (a pusher cannot be trusted on this node's own runs).
   */
  ownVersionRecorded?: () => boolean
  /** This node's live row at the path, if any. */
  here: LiveFile | undefined
  /**
   * This node's own re-hash marked the row: it found the bytes at the path damaged (not yet moved
   * aside) or unreadable, and claims nothing of them (src/store/conflicts.ts `damageMarked`).
   */
  damaged?: boolean
}

/** Whether this node's indexed version is one the entry's version replaces. */
export function descendsFrom (here: LiveFile, entry: PlanEntry, entryOriginNodeId: number, ownVersionRecorded?: () => boolean): boolean {
  // the same origin at an equal or later run is a later version of it; when that origin is this
  // node, only if this node really recorded that version (a pusher may name any run)
  if (here.originNodeId === entryOriginNodeId && here.originRunId <= entry.originRun && (ownVersionRecorded === undefined || ownVersionRecorded())) return true
  return entry.replaces != null && here.hash.equals(entry.replaces)
}

function identity (info: FileInfo): CommitExpectation {
  return { kind: 'file', size: info.size, mtimeNs: info.mtimeNs, ...(info.ino === undefined ? {} : { ino: info.ino }) }
}

export async function judgeEntry (j: JudgeInput): Promise<Verdict> {
  const { fs, abs, entry: e, here } = j
  // a path this node never indexed costs no lstat (a plan can hold a million new files): an
  // unindexed file there is found by the create-exclusive commit, as `occupied`
  if (here === undefined) return { kind: 'write', expect: { kind: 'absent' } }
  const disk = await fs.lstat(abs)
  if (disk === undefined) return { kind: 'write', expect: { kind: 'absent' } }
  if (disk.kind !== 'file') return { kind: 'conflict', conflict: 'occupied', localFileId: null }
  const indexed = here !== undefined && here.status === 'present' ? here : undefined
  // the file this node found damaged or unreadable, untouched since: no one's version is there,
  // and the entry's replaces it (the damaged bytes move to history, kept)
  if (indexed !== undefined && j.damaged === true && disk.size === indexed.size && disk.mtimeNs === indexed.mtimeNs) return { kind: 'write', expect: identity(disk) }
  const replaceOrConflict = (row: LiveFile): Verdict => descendsFrom(row, e, j.entryOriginNodeId, j.ownVersionRecorded)
    ? { kind: 'write', expect: identity(disk) }
    : { kind: 'conflict', conflict: 'diverged', localFileId: null }
  if (indexed !== undefined && disk.size === indexed.size && disk.mtimeNs === indexed.mtimeNs) {
    if (indexed.hash.equals(e.hash)) return { kind: 'held', mtimeNs: disk.mtimeNs, reread: false }
    return replaceOrConflict(indexed)
  }
  // in doubt (touched, edited, or a file this node never indexed): only the bytes can say
  const couldBe = disk.size === e.size || (indexed !== undefined && disk.size === indexed.size)
  const unknown: Verdict = indexed !== undefined ? { kind: 'conflict', conflict: 'local-edit', localFileId: indexed.id } : { kind: 'conflict', conflict: 'occupied', localFileId: null }
  if (!couldBe || disk.size > HASH_IN_DOUBT_MAX_BYTES) return unknown
  const h = await fs.hash(abs).catch(() => undefined)
  if (h === undefined) return unknown
  if (h.hash.equals(e.hash)) return { kind: 'held', mtimeNs: disk.mtimeNs, reread: true }
  if (indexed !== undefined && h.hash.equals(indexed.hash)) return replaceOrConflict(indexed)
  return unknown
}
