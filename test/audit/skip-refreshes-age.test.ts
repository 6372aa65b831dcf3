/**
 * Regression for the audit finding (../shared/audit/data-path/poc-a-skip-refreshes-age.sh): a
 * push that skipped unchanged files (placement cache: same size and mtime) re-stamped the
 * component `sha256-readback` with verified_at = now without reading a byte, so a file
 * corrupted in place at the destination passed the gate under `offload_max_evidence_age` and
 * offload deleted the only good copy. DESIGN invariant 22: `verified_at` is when the bytes were
 * last re-read at the destination; a skip never makes evidence younger than its last real read.
 *
 * In-process, with an injected clock, instead of the CLI and `sleep`.
 */
import { mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import type { Config, DirectoryDestinationConfig, VolumeConfig } from '../../src/config/types.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { createLogger, MemorySink } from '../../src/logger.js'
import { offloadVolume } from '../../src/offload/offload.js'
import { nodeDirectoryFs, type DirectoryFs } from '../../src/push/directory-fs.js'
import { pushToDirectory } from '../../src/push/directory-push.js'
import { openStore } from '../../src/store/store.js'
import { addSelf } from '../helpers/nodes.js'
import { tempDir } from '../helpers/store.js'

const ORIGINAL = 'precious original bytes\n'
const LIMIT_MS = 3_000

function fixture (maxAgeMs: number | undefined) {
  const root = tempDir('cairn-audit-age-')
  const clock = new ManualClock()
  const logs = new MemorySink()
  const logger = createLogger([logs], clock)
  const store = openStore({ path: join(root, 'cairn.db'), clock, logger, backupsDir: join(root, 'backups') })
  addSelf(store, 1, 'laptop')
  const volume: VolumeConfig = { name: 'photos', path: join(root, 'photos'), pushTo: ['usb'], offloadRequires: ['usb'], offloadMaxEvidenceAgeMs: maxAgeMs }
  const usb: DirectoryDestinationConfig = { name: 'usb', type: 'directory', path: join(root, 'usb') }
  const config: Config = { file: join(root, 'cairn.toml'), name: 'laptop', listen: [], serve: { pullEveryMs: 600_000 }, volumes: new Map([['photos', volume]]), destinations: new Map([['usb', usb]]) }
  mkdirSync(volume.path, { recursive: true })
  mkdirSync(usb.path, { recursive: true })
  const local = join(volume.path, 'a.jpg')
  const remote = join(usb.path, 'photos/a.jpg')
  mkdirSync(dirname(local), { recursive: true })
  writeFileSync(local, ORIGINAL)
  // a whole-second mtime, so the destination copy's mtime can be restored exactly after the damage
  utimesSync(local, 1_600_000_000, 1_600_000_000)
  /** Destination reads of a.jpg during the current push (a real read re-hashes it there). */
  let remoteReads = 0
  const counting: DirectoryFs = {
    ...nodeDirectoryFs,
    hash: async (p) => {
      if (p === remote) remoteReads++
      return await nodeDirectoryFs.hash(p)
    }
  }
  const push = async (mustSucceed = true) => {
    remoteReads = 0
    const r = await pushToDirectory({ store, volume, destination: usb, shallow: false, logger, fs: counting })
    if (mustSucceed) expect(r.status).toBe('success')
    return { ...r, remoteReads }
  }
  const offload = async (dryRun: boolean, v: VolumeConfig = volume) =>
    await offloadVolume({ store, config: { ...config, volumes: new Map([['photos', v]]) }, volume: v, selectors: ['.'], dryRun, perFile: true, logger })
  /** Bit rot or another writer at the destination: same length, mtime preserved. */
  const corruptInPlace = (): void => {
    const st = statSync(remote, { bigint: true })
    expect(st.mtimeNs % 1_000_000_000n).toBe(0n)
    const bytes = readFileSync(remote)
    bytes.write('XXXXXXXX', 0)
    writeFileSync(remote, bytes)
    const s = Number(st.mtimeNs / 1_000_000_000n)
    utimesSync(remote, s, s)
    const after = statSync(remote, { bigint: true })
    expect([after.size, after.mtimeNs]).toEqual([st.size, st.mtimeNs])
    expect(readFileSync(remote, 'utf8')).not.toBe(ORIGINAL)
  }
  // usb is its marker's key in the store (recorded by the first push)
  const component = () => store.vector.list(store.volumes.get('photos')!.id).find(c => c.destination === store.destinations.local('usb')?.key)
  return { store, clock, volume, local, remote, push, offload, corruptInPlace, component, index: async () => { await indexVolume({ store, volume, quick: false, logger }) } }
}

describe('audit: a push that skips a file does not refresh its evidence', () => {
  it('keeps evidence for a file a push skipped no younger than its last real read', async () => {
    const f = fixture(undefined)
    await f.index()
    const first = await f.push()
    expect(first.filesSent).toBe(1)
    const lastRealRead = f.clock.nowNs()
    f.clock.advanceNs(3_600e9)
    const second = await f.push()
    expect(second.filesSent).toBe(0)
    // a push that did not re-read a.jpg at usb has nothing newer to say about it
    if (second.remoteReads === 0) {
      const c = f.component()
      expect(c).toBeDefined()
      expect(c!.verifiedAtNs ?? 0).toBeLessThanOrEqual(lastRealRead)
      // and under a 30-minute age limit that evidence (an hour old) does not pass the gate
      const limited = { ...f.volume, offloadMaxEvidenceAgeMs: 1_800_000 }
      const r = await f.offload(true, limited)
      expect(r.durable).toBe(0)
      expect(r.notDurable).toBe(1)
    }
  })

  it('does not pass a file corrupted in place at the destination under offload_max_evidence_age once its last real read is older than the limit, and offload keeps the only good copy', async () => {
    const f = fixture(LIMIT_MS)
    await f.index()
    expect((await f.push()).filesSent).toBe(1)
    f.corruptInPlace()
    f.clock.advanceNs(4e9)
    // the evidence is older than the limit: refused (as today)
    const before = await f.offload(true)
    expect(before.durable).toBe(0)
    // a second push, with no verify in between (it may re-read a.jpg and find the damage)
    const second = await f.push(false)
    const atUsb = readFileSync(f.remote, 'utf8')
    if (second.remoteReads === 0 || atUsb !== ORIGINAL) {
      // the push neither re-read nor repaired the corrupted copy: the gate must still refuse it
      const dry = await f.offload(true)
      expect(dry.durable).toBe(0)
      expect(dry.notDurable).toBe(1)
    }
    const r = await f.offload(false)
    // whatever the gate decided, the exact original bytes survive somewhere
    let local: string | undefined
    try { local = readFileSync(f.local, 'utf8') } catch { local = undefined }
    expect(local === ORIGINAL || readFileSync(f.remote, 'utf8') === ORIGINAL).toBe(true)
    if (readFileSync(f.remote, 'utf8') !== ORIGINAL) {
      expect(r.offloaded).toBe(0)
      expect(local).toBe(ORIGINAL)
    }
  })
})
