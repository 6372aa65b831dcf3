/**
 * Regression for the audit finding (../shared/audit/evidence-path/gate-verify-mask.test.ts): a
 * failed verify stopped closing the gate once a later verify of the same destination ended
 * refused or aborted, or once 50 verifies of another destination ran after it. DESIGN
 * invariant 21: a verify that finds content missing or damaged at a destination lowers that
 * claim in an audited write, so the gate no longer depends on which verify ran last.
 *
 * Unlike the reproduction (which only inserted verify run rows), this drives the real
 * `verifyDirectory` over a real destination whose copy was damaged, so it holds whatever the
 * mechanism behind the guarantee is.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Config, DirectoryDestinationConfig, VolumeConfig } from '../../src/config/types.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { gateFile } from '../../src/offload/gate.js'
import { loadGatePolicy } from '../../src/offload/gate-policy.js'
import { pushToDirectory } from '../../src/push/directory-push.js'
import { verifyDirectory } from '../../src/push/verify-directory.js'
import { volumeFixture } from '../helpers/volume.js'

async function fixture () {
  const f = volumeFixture()
  const usb2: DirectoryDestinationConfig = { name: 'usb2', type: 'directory', path: join(f.root, 'usb2') }
  mkdirSync(usb2.path, { recursive: true })
  const volume: VolumeConfig = { ...f.volume, pushTo: ['usb', 'usb2'], offloadRequires: ['usb'] }
  const config: Config = {
    file: join(f.root, 'cairn.toml'), name: 'laptop', listen: [], serve: { pullEveryMs: 600_000 },
    volumes: new Map([['photos', volume]]), destinations: new Map([['usb', f.usb], ['usb2', usb2]])
  }
  f.write('a.jpg', 'alpha bytes')
  await indexVolume({ store: f.store, volume, quick: false, logger: f.logger })
  for (const d of [f.usb, usb2]) {
    const r = await pushToDirectory({ store: f.store, volume, destination: d, shallow: false, logger: f.logger })
    expect(r.status).toBe('success')
  }
  const volId = f.store.volumes.get('photos')!.id
  /** The targets refusing a.jpg right now. */
  const refusing = (): string[] => {
    const row = [...f.store.files.iterateGateRows(volId)].find(r => r.path === 'a.jpg')!
    return gateFile(loadGatePolicy(f.store, config, volume, f.store.clock.nowNs()), row).map(x => x.target.name)
  }
  const verify = async (d: DirectoryDestinationConfig) => await verifyDirectory({ store: f.store, volume, destination: d, logger: f.logger })
  /** Bit rot at usb: same length, different bytes. */
  const damageAtUsb = (): void => {
    const at = join(f.usb.path, 'photos/a.jpg')
    const bytes = readFileSync(at)
    bytes[0] = (bytes[0] ?? 0) ^ 0xff
    writeFileSync(at, bytes)
  }
  // the gate passes before anything goes wrong (it is not closed for some other reason)
  expect(refusing()).toEqual([])
  damageAtUsb()
  const failed = await verify(f.usb)
  expect(failed.status).toBe('failed')
  expect(refusing()).toContain('usb')
  return { f, volume, usb2, refusing, verify }
}

describe('audit: a failed verify keeps the gate closed whatever verify runs after it', () => {
  it('keeps refusing a destination a verify found damaged after a later verify of it is refused (disk not mounted)', async () => {
    const { f, refusing, verify } = await fixture()
    // usb unmounted: the mount point is an empty directory without a marker
    renameSync(f.usb.path, `${f.usb.path}.away`)
    mkdirSync(f.usb.path)
    const refused = await verify(f.usb)
    expect(refused.status).toBe('refused')
    expect(refusing()).toContain('usb')
    // mounted again: still damaged, still refused until a push repairs it
    renameSync(f.usb.path, `${f.usb.path}.empty`)
    renameSync(`${f.usb.path}.away`, f.usb.path)
    expect(refusing()).toContain('usb')
  })

  it('keeps refusing a destination a verify found damaged after a later verify of it is aborted (killed and reaped)', async () => {
    const { f, refusing } = await fixture()
    // what a kill -9 of `cairn verify` leaves behind once the next start reaps it
    const volId = f.store.volumes.get('photos')!.id
    const v = f.store.runs.begin({ kind: 'verify', volumeId: volId, destination: 'usb' }).id
    f.store.runs.finish(v, 'aborted')
    expect(refusing()).toContain('usb')
  })

  it('keeps refusing a destination a verify found damaged after 50 verifies of another destination', async () => {
    const { refusing, verify, usb2 } = await fixture()
    for (let i = 0; i < 50; i++) expect((await verify(usb2)).status).toBe('success')
    expect(refusing()).toContain('usb')
  }, 60_000)

  it('opens again once a push has repaired the damaged copy (a gate that never opens is a failure too)', async () => {
    const { f, volume, refusing } = await fixture()
    const r = await pushToDirectory({ store: f.store, volume, destination: f.usb, shallow: false, logger: f.logger })
    expect(r.status).toBe('success')
    expect(readFileSync(join(f.usb.path, 'photos/a.jpg'), 'utf8')).toBe('alpha bytes')
    expect(refusing()).toEqual([])
  })
})
