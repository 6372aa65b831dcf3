/**
 * The exact unlink under a kill (DESIGN invariant 27): a kill at any step of the unlink — and
 * at any step of the recovery after it — leaves the file either where it was (or beside it,
 * under a visible name) with its row present, or gone with its row offloaded; never gone with
 * a row that says present, never deleted by the recovery.
 *
 * A kill is simulated by throwing at a crash point (the `atStep` hook runs right after
 * crashPoint(label)): the step after it does not happen, and no cleanup undoes the steps
 * before it. The real SIGKILL harness (test/crash/) drives the same labels.
 */
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CliContext } from '../../src/cli/context.js'
import type { Config, DirectoryDestinationConfig, VolumeConfig } from '../../src/config/types.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { offloadVolume, type OffloadReport } from '../../src/offload/offload.js'
import { restoreFiles } from '../../src/offload/restore.js'
import { nodeUnlinkFs, type UnlinkFs } from '../../src/offload/unlink-fs.js'
import { recoverInterruptedUnlinks } from '../../src/offload/unlink-recovery.js'
import type { UnlinkHooks } from '../../src/offload/unlink.js'
import { pushToDirectory } from '../../src/push/directory-push.js'
import type { Store } from '../../src/store/store.js'
import { dataDir, makeHome } from '../helpers/home.js'
import { tempDir } from '../helpers/store.js'
import { volumeFixture, type VolumeFixture } from '../helpers/volume.js'

class Killed extends Error {}

function configOf (f: VolumeFixture): Config {
  return { file: join(f.root, 'cairn.toml'), name: 'laptop', listen: [], serve: { pullEveryMs: 600_000 }, volumes: new Map([[f.volume.name, f.volume]]), destinations: new Map([['usb', f.usb]]) }
}

/** Throws at the first crash point with this label (once); records every label reached. */
function killAt (label: string | undefined, seen: string[] = []): { hooks: Pick<UnlinkHooks, 'atStep'>, fired: () => boolean } {
  let fired = false
  return {
    hooks: {
      atStep: (l) => {
        seen.push(l)
        if (!fired && l === label) { fired = true; throw new Killed(l) }
      }
    },
    fired: () => fired
  }
}

type Path = 'same' | 'replaced' | 'taken'

/**
 * One durable file `2019/doc.txt`, offloaded with a kill at `label`. `replaced`: an atomic save
 * lands right before the quarantine rename (the unlink puts it back); `taken`: a second save
 * takes the name again before the put-back (the first save is kept aside).
 */
async function killedOffload (label: string | undefined, path: Path = 'same'): Promise<{ f: VolumeFixture, abs: string, r: OffloadReport, seen: string[] }> {
  const f = volumeFixture()
  f.write('2019/doc.txt', 'durable bytes')
  await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })
  expect((await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger })).status).toBe('success')
  const abs = join(f.volume.path, '2019/doc.txt')
  const save = (text: string): void => { writeFileSync(abs + '.tmp', text); renameSync(abs + '.tmp', abs) }
  let saves = 0
  const unlinkFs: UnlinkFs = {
    ...nodeUnlinkFs,
    rename: (from, to) => {
      if (path !== 'same' && from === abs && saves === 0) { saves++; save('first save') }
      nodeUnlinkFs.rename(from, to)
    },
    moveNoReplace: (from, to) => {
      if (path === 'taken' && to === abs && saves === 1) { saves++; save('second save') }
      nodeUnlinkFs.moveNoReplace(from, to)
    }
  }
  const seen: string[] = []
  const kill = killAt(label, seen)
  const r = await offloadVolume({ store: f.store, config: configOf(f), volume: f.volume, selectors: ['.'], dryRun: false, perFile: true, logger: f.logger, unlinkFs, hooks: kill.hooks })
  if (label !== undefined) expect(kill.fired(), `${label} was reached`).toBe(true)
  return { f, abs, r, seen }
}

function row (store: Store): string | undefined {
  return store.files.live(store.volumes.get('photos')!.id).get('2019/doc.txt')?.status
}

function names (f: VolumeFixture): string[] {
  return readdirSync(join(f.volume.path, '2019')).sort()
}

/** What must hold once every pending entry is resolved, per path through the unlink. */
function expectSettled (f: VolumeFixture, abs: string, outcome: 'kept-in-place' | 'offloaded' | Path): void {
  expect(f.store.unlinkJournal.hasPending()).toBe(false)
  expect(names(f).filter(n => n.startsWith('.cairn'))).toEqual([])
  if (outcome === 'offloaded') {
    expect(existsSync(abs)).toBe(false)
    expect(row(f.store)).toBe('offloaded')
    return
  }
  expect(row(f.store)).toBe('present')
  if (outcome === 'kept-in-place' || outcome === 'same') {
    expect(names(f)).toEqual(['doc.txt'])
    expect(readFileSync(abs, 'utf8')).toBe('durable bytes')
  } else if (outcome === 'replaced') {
    expect(names(f)).toEqual(['doc.txt'])
    expect(readFileSync(abs, 'utf8')).toBe('first save')
  } else {
    const all = names(f)
    expect(all).toHaveLength(2)
    expect(readFileSync(abs, 'utf8')).toBe('second save')
    expect(readFileSync(join(f.volume.path, '2019', all.find(n => n !== 'doc.txt')!), 'utf8')).toBe('first save')
  }
}

// every crash point of each path through the unlink, and where the file must end up
const UNLINK_CASES: Array<{ path: Path, label: string, settled: 'kept-in-place' | 'offloaded' | Path }> = [
  { path: 'same', label: 'unlink:journal-open', settled: 'kept-in-place' },
  { path: 'same', label: 'unlink:quarantine-rename', settled: 'kept-in-place' },
  { path: 'same', label: 'unlink:unlink', settled: 'kept-in-place' },
  { path: 'same', label: 'unlink:mark-offloaded', settled: 'offloaded' },
  { path: 'replaced', label: 'unlink:rename-back', settled: 'replaced' },
  { path: 'replaced', label: 'unlink:fsync-dir', settled: 'replaced' },
  { path: 'replaced', label: 'unlink:resolve-restored', settled: 'replaced' },
  { path: 'taken', label: 'unlink:keep-aside-plan', settled: 'taken' },
  { path: 'taken', label: 'unlink:keep-aside', settled: 'taken' },
  { path: 'taken', label: 'unlink:fsync-dir', settled: 'taken' },
  { path: 'taken', label: 'unlink:resolve-kept', settled: 'taken' }
]

const RECOVERY_LABELS = ['unlink:recover-remove-link', 'unlink:recover-resolve-restored', 'unlink:recover-resolve-kept', 'unlink:recover-resolve-unchanged',
  'unlink:recover-mark-offloaded', 'unlink:rename-back', 'unlink:fsync-dir', 'unlink:resolve-restored', 'unlink:keep-aside-plan', 'unlink:keep-aside', 'unlink:resolve-kept']

describe('the exact unlink under a kill', () => {
  it('passes every crash point of each path once, in order', async () => {
    expect((await killedOffload(undefined, 'same')).seen).toEqual(['unlink:journal-open', 'unlink:quarantine-rename', 'unlink:unlink', 'unlink:mark-offloaded'])
    expect((await killedOffload(undefined, 'replaced')).seen).toEqual(['unlink:journal-open', 'unlink:quarantine-rename', 'unlink:rename-back', 'unlink:fsync-dir', 'unlink:resolve-restored'])
    expect((await killedOffload(undefined, 'taken')).seen).toEqual(['unlink:journal-open', 'unlink:quarantine-rename', 'unlink:rename-back', 'unlink:keep-aside-plan', 'unlink:keep-aside', 'unlink:fsync-dir', 'unlink:resolve-kept'])
  })

  for (const c of UNLINK_CASES) {
    it(`a kill at ${c.label} (${c.path}) is recovered at the next start: ${c.settled === 'offloaded' ? 'the row is marked offloaded' : 'nothing is deleted'}`, async () => {
      const { f, abs } = await killedOffload(c.label, c.path)
      recoverInterruptedUnlinks({ store: f.store, logger: f.logger })
      expectSettled(f, abs, c.settled)
    })
  }

  it('a kill between the unlink and the offloaded mark leaves a file restore brings back, after the recovery marked it and settled the claims', async () => {
    const { f, abs, r } = await killedOffload('unlink:mark-offloaded')
    // before recovery: the bytes are gone and the row still says present (the state a kill leaves)
    expect(existsSync(abs)).toBe(false)
    expect(row(f.store)).toBe('present')
    expect(f.store.unlinkJournal.listForRun(r.runId!).map(e => e.state)).toEqual(['pending'])
    const [rec] = recoverInterruptedUnlinks({ store: f.store, logger: f.logger })
    expect(rec).toMatchObject({ volume: 'photos', entries: [{ path: '2019/doc.txt', action: 'offloaded', runId: r.runId }] })
    // the recovery is a run `runs` lists, with an event per file it changed
    const run = f.store.runs.get(rec!.runId!)
    expect(run).toMatchObject({ kind: 'offload', status: 'success', fileCount: 1, detail: { recovery: true, interrupted_runs: [r.runId], offloaded: 1 } })
    expect(f.store.runs.events(run.id).map(e => e.transition)).toEqual(['begin', 'unlink-offloaded', 'success'])
    expect(f.store.files.live(f.store.volumes.get('photos')!.id).get('2019/doc.txt')).toMatchObject({ status: 'offloaded', statusChangedRunId: run.id })
    expect(f.logs.records.some(l => l.msg === 'recovered an interrupted unlink')).toBe(true)
    const restored = await restoreFiles({ store: f.store, volume: f.volume, from: f.usb, selectors: ['.'], logger: f.logger })
    expect(restored).toMatchObject({ restored: 1 })
    expect(readFileSync(abs, 'utf8')).toBe('durable bytes')
  })

  it('never deletes a quarantined file at recovery, even one that matches the check: it is put back and the row stays present', async () => {
    const { f, abs } = await killedOffload('unlink:unlink')
    expect(names(f).filter(n => n.startsWith('.cairn-offloading-'))).toHaveLength(1)
    const [rec] = recoverInterruptedUnlinks({ store: f.store, logger: f.logger })
    expect(rec?.entries).toMatchObject([{ action: 'restored' }])
    expectSettled(f, abs, 'kept-in-place')
    // the next offload checks it again and deletes it
    const again = await offloadVolume({ store: f.store, config: configOf(f), volume: f.volume, selectors: ['.'], dryRun: false, perFile: false, logger: f.logger })
    expect(again).toMatchObject({ offloaded: 1 })
  })

  for (const c of UNLINK_CASES.filter(x => x.label !== 'unlink:journal-open')) {
    it(`recovery killed at any of its own steps after a kill at ${c.label} (${c.path}) is recovered by the next start`, async () => {
      // the recovery's own crash points on this path, from one uninterrupted recovery
      const traced = await killedOffload(c.label, c.path)
      const reached: string[] = []
      recoverInterruptedUnlinks({ store: traced.f.store, logger: traced.f.logger, hooks: killAt(undefined, reached).hooks })
      expectSettled(traced.f, traced.abs, c.settled)
      traced.f.store.close()
      expect(reached.length).toBeGreaterThan(0)
      expect(reached.every(l => RECOVERY_LABELS.includes(l))).toBe(true)
      for (const label of reached) {
        const { f, abs } = await killedOffload(c.label, c.path)
        recoverInterruptedUnlinks({ store: f.store, logger: f.logger, hooks: killAt(label).hooks })
        recoverInterruptedUnlinks({ store: f.store, logger: f.logger })
        expectSettled(f, abs, c.settled)
        f.store.close()
      }
    }, 60_000)
  }

  it('an I/O error after the quarantine rename is an error outcome whose entry the next start resolves: the file is put back', async () => {
    const f = volumeFixture()
    f.write('2019/doc.txt', 'durable bytes')
    await indexVolume({ store: f.store, volume: f.volume, quick: false, logger: f.logger })
    await pushToDirectory({ store: f.store, volume: f.volume, destination: f.usb, shallow: false, logger: f.logger })
    const failing: UnlinkFs = { ...nodeUnlinkFs, unlink: () => { throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }) } }
    const r = await offloadVolume({ store: f.store, config: configOf(f), volume: f.volume, selectors: ['.'], dryRun: false, perFile: true, logger: f.logger, unlinkFs: failing })
    expect(r).toMatchObject({ offloaded: 0, errors: 1, status: 'partial' })
    expect(r.problems[0]).toMatchObject({ path: '2019/doc.txt', outcome: 'error' })
    expect(f.store.unlinkJournal.listForRun(r.runId!).map(e => e.state)).toEqual(['pending'])
    expect(row(f.store)).toBe('present')
    const [rec] = recoverInterruptedUnlinks({ store: f.store, logger: f.logger })
    expect(rec?.entries).toMatchObject([{ action: 'restored' }])
    expectSettled(f, join(f.volume.path, '2019/doc.txt'), 'kept-in-place')
  })

  it('decides nothing while the directory is another one (an unmounted volume): the entry stays pending, the row present', async () => {
    const { f, abs } = await killedOffload('unlink:mark-offloaded')
    const away = join(f.root, 'unmounted')
    renameSync(f.volume.path, away)
    mkdirSync(join(f.volume.path, '2019'), { recursive: true })
    const runsBefore = f.store.runs.list().length
    const [rec] = recoverInterruptedUnlinks({ store: f.store, logger: f.logger })
    expect(rec).toMatchObject({ runId: null, entries: [{ action: 'undecided' }] })
    // no run per command while the disk is away, only a warning
    expect(f.store.runs.list()).toHaveLength(runsBefore)
    expect(f.logs.messages('warn')).toContain('an interrupted unlink waits for its directory')
    expect(row(f.store)).toBe('present')
    expect(f.store.unlinkJournal.hasPending()).toBe(true)
    // the disk is back: the next start decides
    rmSync(f.volume.path, { recursive: true })
    renameSync(away, f.volume.path)
    recoverInterruptedUnlinks({ store: f.store, logger: f.logger })
    expectSettled(f, abs, 'offloaded')
  })

  it('waits behind a run another live process has on the volume, and recovers once that process is gone', async () => {
    const { f, abs, r } = await killedOffload('unlink:unlink')
    const alive = new Set<number>([4242])
    const { openStore } = await import('../../src/store/store.js')
    const other = openStore({ path: join(f.root, 'cairn.db'), clock: f.store.clock, logger: f.logger, pid: 4242, isAlive: (p) => alive.has(p) })
    const volId = f.store.volumes.get('photos')!.id
    const live = other.runs.begin({ kind: 'offload', volumeId: volId })
    const me = openStore({ path: join(f.root, 'cairn.db'), clock: f.store.clock, logger: f.logger, pid: 4343, isAlive: (p) => alive.has(p) })
    expect(recoverInterruptedUnlinks({ store: me, logger: f.logger })).toMatchObject([{ volume: 'photos', runId: null }])
    expect(me.unlinkJournal.listForRun(r.runId!).map(e => e.state)).toEqual(['pending'])
    alive.delete(4242)
    const [rec] = recoverInterruptedUnlinks({ store: me, logger: f.logger })
    expect(rec?.entries).toMatchObject([{ action: 'restored' }])
    expect(me.runs.get(live.id)).toMatchObject({ status: 'aborted' })
    other.close()
    me.close()
    expectSettled(f, abs, 'kept-in-place')
  })
})

describe('recovery at the start of a command', () => {
  it('recovers an interrupted unlink when any command opens the store', async () => {
    const root = tempDir()
    const h = makeHome('laptop', undefined, root)
    const volume: VolumeConfig = { name: 'photos', path: dataDir(root, 'photos'), pushTo: ['usb'], offloadRequires: ['usb'], offloadMaxEvidenceAgeMs: undefined }
    const usb: DirectoryDestinationConfig = { name: 'usb', type: 'directory', path: dataDir(root, 'usb') }
    writeFileSync(join(volume.path, 'a.txt'), 'bytes')
    const store = h.openStore()
    await indexVolume({ store, volume, quick: false, logger: store.logger })
    await pushToDirectory({ store, volume, destination: usb, shallow: false, logger: store.logger })
    const config: Config = { file: join(h.home, 'cairn.toml'), name: 'laptop', listen: [], serve: { pullEveryMs: 600_000 }, volumes: new Map([['photos', volume]]), destinations: new Map([['usb', usb]]) }
    await offloadVolume({ store, config, volume, selectors: ['.'], dryRun: false, perFile: false, logger: store.logger, hooks: killAt('unlink:mark-offloaded').hooks })
    expect(store.files.live(store.volumes.get('photos')!.id).get('a.txt')?.status).toBe('present')
    store.close()

    const ctx = new CliContext({ home: h.home })
    ctx.setSinks([])
    const opened = ctx.store()
    expect(opened.files.live(opened.volumes.get('photos')!.id).get('a.txt')?.status).toBe('offloaded')
    expect(opened.unlinkJournal.hasPending()).toBe(false)
    expect(opened.runs.list({ limit: 1 })[0]).toMatchObject({ kind: 'offload', status: 'success', detail: { recovery: true } })
    ctx.close()
  })
})
