import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { cairn, cairnJson } from '../helpers/cli.js'
import { tempDir } from '../helpers/store.js'
import { configure, enrollBothWays, initHome, startServe, type ServeProcess } from './fleet.js'

interface VectorRow { destination: string, origin: string, origin_run: number, verify_method: string | null, source: string, destination_key: string, destination_owner_node_id: string | null, destination_label: string }
interface Group { target: string, cause: string, files: number, summary: string, advice: string, example_path: string, detail: string, provenance: string }
interface Offload { dry_run: boolean, run_id: number | null, selected: number, offloaded: number, durable: number, not_durable: number, drift: number, groups: Group[], requirements: Array<{ target: string, satisfied: number, blocked: number }> }

/**
 * DESIGN.md's story, steps 1–5, with real `cairn serve` processes for laptop and nas on
 * 127.0.0.1 and offsite as a directory destination of nas.
 */
describe('the cairn story', () => {
  const serves: ServeProcess[] = []
  afterAll(() => { for (const s of serves) s.kill() })

  it('replicates, proves, offloads, refuses with a reason, revokes, and restores', async () => {
    const root = tempDir('cairn-story-')
    const laptop = { name: 'laptop', home: await initHome(root, 'laptop') }
    const nas = { name: 'nas', home: await initHome(root, 'nas') }
    for (const d of ['photos/2018', 'photos/2019', 'nas-photos', 'offsite', 'usb']) mkdirSync(join(root, d), { recursive: true })
    for (let i = 1; i <= 3; i++) {
      writeFileSync(join(root, `photos/2018/p${i}.jpg`), `2018 photo ${i} `.repeat(500))
      writeFileSync(join(root, `photos/2019/p${i}.jpg`), `2019 photo ${i} `.repeat(500))
    }
    configure(laptop.home, `[volumes.photos]\npath = "${root}/photos"\npush_to = ["nas", "usb"]\noffload_requires = ["nas", "nas/offsite"]\n[destinations.usb]\ntype = "directory"\npath = "${root}/usb"`)
    configure(nas.home, `[volumes.photos]\npath = "${root}/nas-photos"\npush_to = ["offsite"]\n[destinations.offsite]\ntype = "directory"\npath = "${root}/offsite"`)
    // nas's operator marks its empty volume directory (an empty unmarked root refuses pushes)
    await cairnJson(nas.home, ['volume', 'init', 'photos'])
    serves.push(await startServe(nas.home), await startServe(laptop.home))
    await enrollBothWays(laptop, nas)

    // 1. laptop indexes and pushes to nas; nas answers with a signed receipt
    const indexed = await cairnJson<{ run_id: number }>(laptop.home, ['index', 'photos'])
    const pushed = await cairnJson<Array<{ destination: string, status: string, method: string }>>(laptop.home, ['push', 'photos'])
    expect(pushed.map(p => [p.destination, p.status, p.method])).toEqual([['nas', 'success', 'peer-sha256'], ['usb', 'success', 'sha256-readback']])
    expect((await cairnJson<VectorRow[]>(laptop.home, ['vector', 'photos'])).find(r => r.destination === 'nas'))
      .toMatchObject({ origin: 'laptop', origin_run: indexed.run_id, verify_method: 'peer-sha256', source: 'nas' })

    // 2. nas pushes its copy to offsite, reads it back, records it locally verified
    const [offsite] = await cairnJson<Array<{ status: string, method: string }>>(nas.home, ['push', 'photos'])
    expect(offsite).toMatchObject({ status: 'success', method: 'sha256-readback' })
    const nasId = (await cairnJson<{ node_id: string }>(nas.home, ['id'])).node_id
    const atNas = (await cairnJson<VectorRow[]>(nas.home, ['vector', 'photos'])).find(r => r.destination === 'offsite')
    expect(atNas).toMatchObject({ origin: 'laptop', origin_run: indexed.run_id, source: 'local', destination_owner_node_id: nasId, destination_label: 'offsite' })
    expect(atNas?.destination_key).toMatch(/^dir:[0-9a-f]{32}$/)

    // 3. laptop pulls nas's signed vector: it now knows offsite holds photos, asserted by nas
    const [pulled] = await cairnJson<Array<{ status: string }>>(laptop.home, ['pull', 'nas', 'photos'])
    expect(pulled?.status).toBe('success')
    // keyed by offsite's marker on both nodes, owned by nas, shown as nas's directory
    expect((await cairnJson<VectorRow[]>(laptop.home, ['vector', 'photos'])).find(r => r.destination_key === atNas?.destination_key))
      .toMatchObject({ destination: "offsite (nas's)", destination_owner_node_id: nasId, destination_label: 'offsite', origin: 'laptop', origin_run: indexed.run_id, verify_method: 'sha256-readback', source: 'nas' })

    // 4. laptop offloads 2019/: both required targets are covered
    const off = await cairnJson<Offload>(laptop.home, ['offload', 'photos', '2019'])
    expect(off).toMatchObject({ dry_run: false, selected: 3, offloaded: 3, not_durable: 0, requirements: [{ target: 'nas', satisfied: 3, blocked: 0 }, { target: 'nas/offsite', satisfied: 3, blocked: 0 }] })
    expect(existsSync(join(root, 'photos/2019/p1.jpg'))).toBe(false)
    // … while a file added after the last push is refused, with target, cause, provenance and the clearing act
    writeFileSync(join(root, 'photos/2019/new.jpg'), 'taken today')
    await cairnJson(laptop.home, ['index', 'photos'])
    const refused = await cairnJson<Offload>(laptop.home, ['offload', 'photos', '2019/new.jpg'])
    expect(refused).toMatchObject({ offloaded: 0, not_durable: 1 })
    expect(refused.groups.map(g => [g.target, g.cause, g.provenance, g.advice])).toEqual([
      ['nas', 'not-pushed', 'asserted by peer nas', 'the next push to nas covers it'],
      ['nas/offsite', 'relay-not-holding', 'none', 'push to nas so it holds this file, then pull from it after its next push to nas/offsite']
    ])
    const human = await cairn(laptop.home, ['offload', 'photos', '2019/new.jpg'])
    expect(human.code).toBe(0)
    expect(human.stdout).toContain('nas: not-pushed')
    expect(human.stdout).toContain('asserted by peer nas')

    // 5. nas is compromised: the impact first, then the revocation closes the gate
    const impact = await cairnJson<{ dry_run: boolean, components_dropped: number, files_losing_gate: Array<{ volume: string, files: number }> }>(laptop.home, ['peer', 'revoke', 'nas', '--dry-run'])
    expect(impact).toMatchObject({ dry_run: true, components_dropped: 2, files_losing_gate: [{ volume: 'photos', files: 3 }] })
    // the offloaded 2019/ files lose nas's word, but usb (a directory laptop writes) still holds them on its own evidence: not at risk
    expect((impact as unknown as { offloaded_at_risk: unknown }).offloaded_at_risk).toEqual([])
    const history = await cairnJson<unknown[]>(laptop.home, ['vector', 'history', 'photos'])
    await cairnJson(laptop.home, ['peer', 'revoke', 'nas', '--yes'])
    const closed = await cairnJson<Offload>(laptop.home, ['offload', 'photos', '2018', '--dry-run'])
    expect(closed).toMatchObject({ durable: 0, not_durable: 3 })
    expect(closed.groups.map(g => [g.target, g.cause, g.provenance])).toEqual([['nas', 'target-revoked', 'none'], ['nas/offsite', 'target-revoked', 'none']])
    expect(await cairnJson<unknown[]>(laptop.home, ['vector', 'history', 'photos'])).toEqual(history)
    expect((await cairnJson<VectorRow[]>(laptop.home, ['vector', 'photos'])).map(r => [r.destination, r.source])).toEqual([['laptop', 'local'], ['usb', 'local']])

    // and an offloaded file comes back byte-identical from a directory destination
    const restored = await cairnJson<{ restored: number, failed: number }>(laptop.home, ['restore', 'photos', '2019/p2.jpg', '--from', 'usb'])
    expect(restored).toMatchObject({ restored: 1, failed: 0 })
    expect(readFileSync(join(root, 'photos/2019/p2.jpg'), 'utf8')).toBe('2019 photo 2 '.repeat(500))

    for (const s of serves) expect((await s.stop()).code).toBe(0)
  }, 120_000)
})
