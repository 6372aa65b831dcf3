/**
 * Where a restore's bytes come from. A source stages each wanted file's bytes, fsynced, in a
 * staging path the restore gives it, and says per file what happened; the restore then re-hashes
 * the staged bytes from its own disk before any commit. The directory source lives here: a
 * directory destination of this node, read-only, after its identity marker checks out. A peer
 * source (src/fetch/peer-source.ts) fetches over `/cairn/fetch/1.0.0`.
 */
import { join } from 'node:path'
import type { DirectoryDestinationConfig } from '../config/types.js'
import type { DirectoryFs } from '../push/directory-fs.js'
import { checkDestinationIdentity } from '../push/destination-marker.js'
import type { Store } from '../store/store.js'

export interface WantedFile {
  path: string
  hash: Buffer
  size: number
}

export type SourceOutcome = { kind: 'staged', staged: string } | { kind: 'not-found' } | { kind: 'failed', reason: string }

export interface RestoreSource {
  /** As the user named it (`usb`, `nas`, `nas/offsite`); recorded as the run's destination. */
  name: string
  /** Where one file would come from, for `--dry-run`. */
  describe: (path: string) => string
  /** Checks that must pass before anything is written (a directory's marker). */
  prepare: () => Promise<void>
  /** Stages each file (in order) and calls `each` once per file. */
  bring: (files: readonly WantedFile[], stage: () => Promise<string>, each: (f: WantedFile, outcome: SourceOutcome) => Promise<void>) => Promise<void>
}

export function directorySource (store: Store, fs: DirectoryFs, dest: DirectoryDestinationConfig, volume: string): RestoreSource {
  return {
    name: dest.name,
    describe: (path) => join(dest.path, volume, path),
    // the destination must be the one the evidence is about; restore never writes to it
    prepare: async () => { await checkDestinationIdentity(store, fs, dest.name, dest.path) },
    bring: async (files, stage, each) => {
      for (const f of files) {
        const source = join(dest.path, volume, f.path)
        const there = await fs.lstat(source)
        if (there?.kind !== 'file') { await each(f, { kind: 'failed', reason: `not at ${dest.name} (${source})` }); continue }
        const staged = await stage()
        try {
          await fs.copyFile(source, staged)
          await fs.syncFile(staged)
        } catch (err) {
          await fs.removeStaging(staged).catch(() => {})
          await each(f, { kind: 'failed', reason: err instanceof Error ? err.message : String(err) })
          continue
        }
        await each(f, { kind: 'staged', staged })
      }
    }
  }
}
