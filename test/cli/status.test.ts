import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cairn, cairnJson } from '../helpers/cli.js'
import { makeHome } from '../helpers/home.js'
import { tempDir } from '../helpers/store.js'

interface Status {
  node_id: string
  name: string
  ok: boolean
  problems: string[]
  serve: { running: boolean, pid: number | null }
  volumes: Array<{ name: string, files: { present: number }, targets: Array<{ name: string, kind: string, label: string, key: string | null, owner_node_id: string | null, pushed: boolean, required: boolean, components: Array<{ origin: string, provenance: string }> }>, offload: { durable: number, not_durable: number, groups: Array<{ target: string, cause: string }> }, warnings: string[], notes: string[] }>
  peers: unknown[]
}

function setup (requires: string): { home: string, root: string } {
  const root = tempDir()
  const h = makeHome('laptop', undefined, root)
  mkdirSync(join(root, 'photos'))
  mkdirSync(join(root, 'usb'))
  writeFileSync(join(root, 'photos/a.jpg'), 'a')
  h.configure(`[volumes.photos]\npath = "${root}/photos"\npush_to = ["usb"]\noffload_requires = ${requires}\n[destinations.usb]\ntype = "directory"\npath = "${root}/usb"`)
  return { home: h.home, root }
}

describe('cairn status', () => {
  it('reports files not pushed yet without failing (exit 0), says serve is not running, and shows them durable after a push', async () => {
    const { home, root } = setup('["usb"]')
    await cairnJson(home, ['index', 'photos'])
    const blocked = await cairn(home, ['status', '--json'])
    expect(blocked.code).toBe(0)
    const s1 = JSON.parse(blocked.stdout) as Status
    expect(s1).toMatchObject({ name: 'laptop', ok: true, problems: [], serve: { running: false, pid: null }, volumes: [{ name: 'photos', files: { present: 1 }, offload: { durable: 0, not_durable: 1, groups: [{ target: 'usb', cause: 'not-pushed' }] } }] })
    const humanBlocked = await cairn(home, ['status'])
    expect(humanBlocked.code).toBe(0)
    expect(humanBlocked.stdout).toContain('serve: not running')
    expect(humanBlocked.stdout).toContain('usb: not-pushed')
    // before its first push a directory has no marker, so no key and no owner
    expect(s1.volumes[0]?.targets).toEqual([expect.objectContaining({ name: 'usb', label: 'usb', key: null, owner_node_id: null })])
    await cairnJson(home, ['push', 'photos'])
    const good = await cairn(home, ['status', '--json'])
    expect(good.code).toBe(0)
    const s2 = JSON.parse(good.stdout) as Status
    expect(s2.volumes[0]).toMatchObject({ offload: { durable: 1, not_durable: 0 }, targets: [{ name: 'usb', kind: 'directory', label: 'usb', owner_node_id: s2.node_id, pushed: true, required: true, components: [{ origin: 'laptop', provenance: 'locally verified' }] }] })
    // keyed by the marker the push wrote, owned by this node
    const marker = readFileSync(join(root, 'usb/.cairn-destination'), 'utf8').split('\n')[1]
    expect(s2.volumes[0]?.targets[0]?.key).toBe(`dir:${marker}`)
    const human = await cairn(home, ['status'])
    expect(human.stdout).toContain('all good')
    expect(human.stdout).toContain('1 of 1 present files durable on usb')
  })

  it('treats a volume that requires nothing as a choice (a note), not as something blocking', async () => {
    const { home } = setup('[]')
    await cairnJson(home, ['index', 'photos'])
    await cairnJson(home, ['push', 'photos'])
    const r = await cairn(home, ['status', '--json'])
    const s = JSON.parse(r.stdout) as Status
    expect(r.code).toBe(0)
    expect(s.volumes[0]?.notes).toEqual(['offload_requires is empty: nothing in this volume may be offloaded'])
    expect(s.volumes[0]?.warnings).toEqual([])
  })

  it('exits 1 once evidence is past offload_max_evidence_age, naming the target and what to do', async () => {
    const root = tempDir()
    const h = makeHome('laptop', undefined, root)
    mkdirSync(join(root, 'photos'))
    mkdirSync(join(root, 'usb'))
    writeFileSync(join(root, 'photos/a.jpg'), 'a')
    h.configure(`[volumes.photos]\npath = "${root}/photos"\npush_to = ["usb"]\noffload_requires = ["usb"]\noffload_max_evidence_age = "1s"\n[destinations.usb]\ntype = "directory"\npath = "${root}/usb"`)
    await cairnJson(h.home, ['index', 'photos'])
    await cairnJson(h.home, ['push', 'photos'])
    await new Promise(resolve => setTimeout(resolve, 1500))
    const r = await cairn(h.home, ['status', '--json'])
    expect(r.code).toBe(1)
    const s = JSON.parse(r.stdout) as Status
    expect(s.ok).toBe(false)
    expect(s.problems).toHaveLength(1)
    expect(s.problems[0]).toMatch(/^photos: usb: 1 file\(s\) .*; to clear: /)
    const human = await cairn(h.home, ['status'])
    expect(human.code).toBe(1)
    expect(human.stdout).toContain('1 problem(s) to act on')
  })

  it('exits 1 for a push that failed, until a push succeeds', async () => {
    const { home, root } = setup('["usb"]')
    await cairnJson(home, ['index', 'photos'])
    // the destination disk is not mounted: its root is gone
    rmSync(join(root, 'usb'), { recursive: true })
    await cairn(home, ['push', 'photos'])
    const failed = await cairn(home, ['status', '--json'])
    expect(failed.code).toBe(1)
    expect((JSON.parse(failed.stdout) as Status).problems[0]).toMatch(/^photos: the last push to usb (failed|was refused) at \S+Z \(run \d+\): /)
    mkdirSync(join(root, 'usb'))
    await cairnJson(home, ['push', 'photos'])
    const good = await cairn(home, ['status', '--json'])
    expect(good.code).toBe(0)
  })
})
