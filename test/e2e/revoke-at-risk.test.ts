import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { cairn, cairnJson } from '../helpers/cli.js'
import { tempDir } from '../helpers/store.js'
import { configure, enrollBothWays, initHome, startServe, type ServeProcess } from './fleet.js'

interface Risk { volume: string, directory: string, files: number, restore_from: string[], command: string }

describe('revocation names what is at risk', () => {
  const serves: ServeProcess[] = []
  afterAll(() => { for (const s of serves) s.kill() })

  it('peer revoke lists offloaded files whose only trusted copy was on the revoked peer, by directory, with the restore to run first; status lists them after', async () => {
    const root = tempDir('cairn-e2e-risk-')
    const laptop = { name: 'laptop', home: await initHome(root, 'laptop') }
    const nas = { name: 'nas', home: await initHome(root, 'nas') }
    mkdirSync(join(root, 'photos/2018'), { recursive: true })
    mkdirSync(join(root, 'photos/2019'), { recursive: true })
    mkdirSync(join(root, 'nas-photos'))
    mkdirSync(join(root, 'usb'))
    for (let i = 0; i < 2; i++) writeFileSync(join(root, `photos/2018/a${i}.jpg`), `old ${i}`.repeat(100))
    configure(laptop.home, `[volumes.photos]\npath = "${root}/photos"\npush_to = ["nas", "usb"]\noffload_requires = ["nas"]\n[destinations.usb]\ntype = "directory"\npath = "${root}/usb"`)
    configure(nas.home, `[volumes.photos]\npath = "${root}/nas-photos"`)
    await cairnJson(nas.home, ['volume', 'init', 'photos'])
    serves.push(await startServe(nas.home))
    await enrollBothWays(laptop, nas)
    await cairnJson(laptop.home, ['index', 'photos'])
    await cairnJson(laptop.home, ['push', 'photos', '--to', 'usb'])
    // 2019 is only ever pushed to nas
    for (let i = 0; i < 3; i++) writeFileSync(join(root, `photos/2019/b${i}.jpg`), `new ${i}`.repeat(100))
    await cairnJson(laptop.home, ['index', 'photos'])
    await cairnJson(laptop.home, ['push', 'photos', '--to', 'nas'])
    const off = await cairnJson<{ offloaded: number }>(laptop.home, ['offload', 'photos', '.'])
    expect(off.offloaded).toBe(5)

    const before = await cairnJson<unknown[]>(laptop.home, ['vector', 'photos'])
    const preview = await cairnJson<{ offloaded_at_risk: Risk[] }>(laptop.home, ['peer', 'revoke', 'nas', '--dry-run'])
    expect(preview.offloaded_at_risk).toEqual([{ volume: 'photos', directory: '2019', files: 3, restore_from: [], command: expect.stringContaining('restore from nas before revoking') }])
    expect(preview.offloaded_at_risk[0]?.command).toContain('cairn restore photos 2019 --from nas')
    // the preview changed nothing
    expect(await cairnJson<unknown[]>(laptop.home, ['vector', 'photos'])).toEqual(before)
    const human = await cairn(laptop.home, ['peer', 'revoke', 'nas'])
    expect(human.stdout).toMatch(/at risk: 3 offloaded file\(s\) would have no evidence on any trusted target/)
    expect(human.stdout).toMatch(/photos\/2019\/ — 3 file\(s\)/)

    const done = await cairnJson<{ offloaded_at_risk: Risk[] }>(laptop.home, ['peer', 'revoke', 'nas', '--yes'])
    expect(done.offloaded_at_risk.map(g => [g.directory, g.files])).toEqual([['2019', 3]])
    const status = await cairn(laptop.home, ['status', '--json'])
    const doc = JSON.parse(status.stdout) as { volumes: Array<{ offloaded_at_risk: Risk[], warnings: string[] }> }
    expect(doc.volumes[0]?.offloaded_at_risk.map(g => [g.directory, g.files])).toEqual([['2019', 3]])
    expect(doc.volumes[0]?.warnings.some(w => w.includes('3 offloaded file(s) have no evidence on any trusted target'))).toBe(true)
    expect(status.code).toBe(1)
  }, 90_000)
})
