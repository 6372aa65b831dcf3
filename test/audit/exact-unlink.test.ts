/**
 * Inverted from ../shared/audit/data-path/data-path-injection.test.ts test F: the last check
 * before the unlink was a path lstat, then unlink(path), so an editor's atomic save (a rename
 * over the path) landing between them was what got deleted. DESIGN invariant 27: the unlink
 * deletes exactly the file that was checked.
 *
 * The save is injected at the worst instants the unlink has: right before the quarantine
 * rename (after every check), right after it (before the compare and the unlink), and twice
 * (a second save while the first one is put back).
 */
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Config } from '../../src/config/types.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { offloadVolume, type OffloadReport } from '../../src/offload/offload.js'
import { nodeUnlinkFs, type UnlinkFs } from '../../src/offload/unlink-fs.js'
import { pushToDirectory } from '../../src/push/directory-push.js'
import { volumeFixture, type VolumeFixture } from '../helpers/volume.js'

function configOf (f: VolumeFixture): Config {
  return { file: join(f.root, 'cairn.toml'), name: 'laptop', listen: [], serve: { pullEveryMs: 600_000 }, volumes: new Map([[f.volume.name, f.volume]]), destinations: new Map([['usb', f.usb]]) }
}

async function durableDoc (): Promise<{ f: VolumeFixture, abs: string }> {
  const f = volumeFixture()
  f.write('doc.txt', 'old version, durable at usb')
  await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })
  expect((await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger })).status).toBe('success')
  return { f, abs: join(f.volume.path, 'doc.txt') }
}

/** What an editor's save does: write a temp file, rename it over the path. */
function atomicSave (abs: string, text: string): void {
  writeFileSync(abs + '.tmp', text)
  renameSync(abs + '.tmp', abs)
}

async function offload (f: VolumeFixture, unlinkFs: UnlinkFs): Promise<OffloadReport> {
  return await offloadVolume({ store: f.store, config: configOf(f), volume: f.volume, selectors: ['.'], dryRun: false, perFile: true, logger: f.logger, unlinkFs })
}

function rowOf (f: VolumeFixture): string | undefined {
  return f.store.files.live(f.store.volumes.get('photos')!.id).get('doc.txt')?.status
}

describe('audit: the unlink deletes exactly the file that was checked', () => {
  it('never deletes a file an atomic save put at the path after the last check: the new file survives, outcome drift', async () => {
    const { f, abs } = await durableDoc()
    let saved = false
    const racing: UnlinkFs = {
      ...nodeUnlinkFs,
      rename: (from, to) => {
        if (from === abs && !saved) { saved = true; atomicSave(abs, 'NEW VERSION the user just saved') }
        nodeUnlinkFs.rename(from, to)
      }
    }
    const r = await offload(f, racing)
    expect(saved).toBe(true)
    expect(r).toMatchObject({ offloaded: 0, drift: 1, status: 'partial' })
    expect(r.files?.[0]).toMatchObject({ path: 'doc.txt', outcome: 'drift' })
    expect(r.problems[0]?.note).toContain('replaced during the check')
    expect(readFileSync(abs, 'utf8')).toBe('NEW VERSION the user just saved')
    expect(rowOf(f)).toBe('present')
    // nothing is left under a quarantine name, and the journal entry is closed
    expect(readdirSync(f.volume.path).filter(n => n !== '.cairn-volume')).toEqual(['doc.txt'])
    expect(f.store.unlinkJournal.listForRun(r.runId!).map(e => e.state)).toEqual(['restored'])
  })

  it('deletes only the checked bytes when the save lands after the quarantine rename: the new file survives at the path', async () => {
    const { f, abs } = await durableDoc()
    let saved = false
    const racing: UnlinkFs = {
      ...nodeUnlinkFs,
      lstat: (p) => {
        if (p.includes('.cairn-offloading-') && !saved) { saved = true; atomicSave(abs, 'NEW VERSION saved after the rename') }
        return nodeUnlinkFs.lstat(p)
      }
    }
    const r = await offload(f, racing)
    expect(saved).toBe(true)
    // the old version was checked and is durable at usb; the save is another file at the path
    expect(r).toMatchObject({ offloaded: 1, drift: 0 })
    expect(readFileSync(abs, 'utf8')).toBe('NEW VERSION saved after the rename')
    expect(readdirSync(f.volume.path).filter(n => n !== '.cairn-volume')).toEqual(['doc.txt'])
    // the next index records the new file at the path (other bytes than the offloaded ones)
    const idx = await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })
    expect(idx.filesReturned + idx.filesChanged).toBe(1)
    expect(rowOf(f)).toBe('present')
  })

  it('keeps both saves when the name is taken again while the first one is put back, and reports where', async () => {
    const { f, abs } = await durableDoc()
    let saves = 0
    const racing: UnlinkFs = {
      ...nodeUnlinkFs,
      rename: (from, to) => {
        if (from === abs && saves === 0) { saves++; atomicSave(abs, 'first save') }
        nodeUnlinkFs.rename(from, to)
      },
      moveNoReplace: (from, to) => {
        if (to === abs && saves === 1) { saves++; atomicSave(abs, 'second save') }
        nodeUnlinkFs.moveNoReplace(from, to)
      }
    }
    const r = await offload(f, racing)
    expect(saves).toBe(2)
    expect(r).toMatchObject({ offloaded: 0, drift: 1 })
    const names = readdirSync(f.volume.path).filter(n => n !== '.cairn-volume').sort()
    expect(names).toHaveLength(2)
    const kept = names.find(n => n !== 'doc.txt')!
    expect(kept).toMatch(/^doc\.txt\.cairn-recovered-\d+-[0-9a-f]{8}$/)
    expect(readFileSync(abs, 'utf8')).toBe('second save')
    expect(readFileSync(join(f.volume.path, kept), 'utf8')).toBe('first save')
    expect(r.problems[0]).toMatchObject({ outcome: 'drift', keptAs: kept })
    expect(r.files?.[0]).toMatchObject({ outcome: 'drift', keptAs: kept })
    expect(f.store.unlinkJournal.listForRun(r.runId!)).toMatchObject([{ state: 'kept', recoveredName: kept }])
    // the kept file is visible: the next index picks it up as a file of its own
    const idx = await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })
    expect(idx.filesAdded).toBe(1)
    expect(existsSync(join(f.volume.path, kept))).toBe(true)
  })
})
