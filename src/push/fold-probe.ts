/**
 * Whether a directory folds names (DESIGN invariant 26): on a case-insensitive destination
 * (exFAT, most SMB shares, an ext4 `casefold` directory) `IMG_0001.JPG` and `img_0001.jpg` are
 * one file, and on a normalization-insensitive one (APFS, HFS+, ext4 casefold) so are the NFC
 * and NFD spellings of `é`. Nothing in a path says so, and it can differ per directory (ext4
 * casefold is a directory attribute), so cairn asks the directory itself:
 *
 *  1. create `.cairn-probe-<random>-Aé` there (exclusive; `é` composed, NFC);
 *  2. look it up as `.cairn-probe-<random>-aé` (other case) and with `é` decomposed (NFD):
 *     whatever finds the probe is a fold the directory applies;
 *  3. remove the probe by the exact name it was created under.
 *
 * One probe per directory per run (a run creates one FoldProbe). A directory that does not
 * exist yet inherits from its nearest existing parent (the attribute is inherited, and a new
 * directory on one mount folds like its parent). A directory that cannot be probed (read-only,
 * full, the probe vanished) is taken to fold both: that can only refuse more, never let two
 * paths land as one.
 */
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import type { Logger } from '../logger.js'
import type { DirectoryFs } from './directory-fs.js'

/** Random bytes in a probe's name (written as hex). */
export const PROBE_RANDOM_BYTES = 8

export interface FoldBehaviour {
  /** Two names that differ only in letter case are one file here. */
  foldsCase: boolean
  /** The NFC and NFD spellings of a name are one file here. */
  foldsNormalization: boolean
  /** false when the answer is the cautious default (the directory could not be probed). */
  probed: boolean
}

/** What a directory that cannot be probed is taken to do: fold everything. */
export const ASSUMED_FOLDING: FoldBehaviour = Object.freeze({ foldsCase: true, foldsNormalization: true, probed: false })

export interface FoldProbe {
  /** How `dir` (absolute) treats names; probed once per probe object, concurrent askers share it. */
  behaviourOf: (dir: string) => Promise<FoldBehaviour>
}

export interface FoldProbeInit {
  logger?: Logger
  /** The random part of a probe's name (tests). */
  randomPart?: () => string
}

/** One run's probe of the directories it writes into, cached per directory. */
export function foldProbe (fs: DirectoryFs, init: FoldProbeInit = {}): FoldProbe {
  const known = new Map<string, Promise<FoldBehaviour>>()
  const randomPart = init.randomPart ?? (() => randomBytes(PROBE_RANDOM_BYTES).toString('hex'))

  const probeDir = async (dir: string): Promise<FoldBehaviour> => {
    const stem = `.cairn-probe-${randomPart()}-`
    const created = join(dir, `${stem}A\u00e9`)
    try {
      await fs.createProbe(created)
    } catch (err) {
      init.logger?.warn('could not probe whether a directory folds names; treating it as folding case and normalization', { dir, error: err instanceof Error ? err.message : String(err) })
      return ASSUMED_FOLDING
    }
    try {
      // the probe must be found under its own name, or nothing the lookups say means anything
      if ((await fs.lstat(created)) === undefined) throw new Error('the probe file is not found under its own name')
      const foldsCase = (await fs.lstat(join(dir, `${stem}a\u00e9`))) !== undefined
      const foldsNormalization = (await fs.lstat(join(dir, `${stem}Ae\u0301`))) !== undefined
      return { foldsCase, foldsNormalization, probed: true }
    } catch (err) {
      init.logger?.warn('could not probe whether a directory folds names; treating it as folding case and normalization', { dir, error: err instanceof Error ? err.message : String(err) })
      return ASSUMED_FOLDING
    } finally {
      await fs.removeProbe(created).catch((err: unknown) => {
        init.logger?.warn('could not remove a name probe', { path: created, error: err instanceof Error ? err.message : String(err) })
      })
    }
  }

  const behaviourOf = async (dir: string): Promise<FoldBehaviour> => {
    let answer = known.get(dir)
    if (answer === undefined) {
      answer = (async () => {
        const info = await fs.lstat(dir).catch(() => null)
        if (info === null) return ASSUMED_FOLDING
        // a symlink to a directory is probed through (its target is where files would land)
        if (info?.kind === 'dir' || info?.kind === 'link') return await probeDir(dir)
        // absent (or in the way: writing there fails anyway): as the nearest existing parent
        const parent = dirname(dir)
        return parent === dir ? ASSUMED_FOLDING : await behaviourOf(parent)
      })()
      known.set(dir, answer)
    }
    return await answer
  }

  return { behaviourOf }
}

/** A name as a directory with behaviour `b` stores it: two names with equal folds are one file. */
export function foldName (name: string, b: Pick<FoldBehaviour, 'foldsCase' | 'foldsNormalization'>): string {
  // a case-folding filesystem's table is not JavaScript's: the round trip through upper case
  // also joins `ß`/`ss` and similar pairs, and case folding is taken to include NFC, so the
  // fold errs towards joining names (refusing a push) rather than towards keeping them apart
  if (b.foldsCase) return name.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC')
  if (b.foldsNormalization) return name.normalize('NFC')
  return name
}
