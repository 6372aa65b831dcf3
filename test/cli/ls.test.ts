import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cairn, cairnJson } from '../helpers/cli.js'
import { makeHome } from '../helpers/home.js'
import { tempDir } from '../helpers/store.js'

interface Entry { path: string, status: string, held_by: Array<{ target: string, verify_method: string | null, source: string }>, not_held_by: Array<{ target: string, cause: string }> }
interface Offload { files: Array<{ path: string, outcome: string, reasons: Array<{ target: string, cause: string }> }> }

describe('cairn ls', () => {
  it('lists a target as holding a file exactly when the offload gate would accept it, for present and offloaded files', async () => {
    const root = tempDir('cairn-ls-')
    const h = makeHome('laptop', undefined, root)
    mkdirSync(join(root, 'photos/2019'), { recursive: true })
    mkdirSync(join(root, 'usb'))
    mkdirSync(join(root, 'usb2'))
    for (let i = 0; i < 4; i++) writeFileSync(join(root, `photos/2019/p${i}.jpg`), `photo ${i}`.repeat(50))
    h.configure(`[volumes.photos]\npath = "${root}/photos"\npush_to = ["usb", "usb2"]\noffload_requires = ["usb"]\n[destinations.usb]\ntype = "directory"\npath = "${root}/usb"\n[destinations.usb2]\ntype = "directory"\npath = "${root}/usb2"`)
    await cairnJson(h.home, ['index', 'photos'])
    await cairnJson(h.home, ['push', 'photos', '--to', 'usb'])
    // damage one copy at usb and let verify find it: its placement is contradicted
    writeFileSync(join(root, 'usb/photos/2019/p1.jpg'), 'rot'.repeat(100))
    await cairn(h.home, ['verify', 'photos', '--at', 'usb'])
    // a file added after the push
    writeFileSync(join(root, 'photos/2019/p9.jpg'), 'new')
    await cairnJson(h.home, ['index', 'photos'])

    const entries = await cairnJson<Entry[]>(h.home, ['ls', 'photos'])
    const by = new Map(entries.map(e => [e.path, e]))
    expect([...by.keys()]).toEqual(['2019/p0.jpg', '2019/p1.jpg', '2019/p2.jpg', '2019/p3.jpg', '2019/p9.jpg'])
    expect(by.get('2019/p0.jpg')?.held_by).toEqual([{ target: 'usb', verify_method: 'sha256-readback', verified_at_ns: expect.any(Number), source: 'local' }])
    expect(by.get('2019/p0.jpg')?.not_held_by.map(n => n.target)).toEqual(['usb2'])
    expect(by.get('2019/p1.jpg')?.held_by).toEqual([])
    expect(by.get('2019/p9.jpg')?.held_by).toEqual([])

    // the gate, asked the same question, agrees file by file
    const gate = await cairnJson<Offload>(h.home, ['offload', 'photos', '.', '--dry-run', '--per-file'])
    for (const f of gate.files) {
      const usb = by.get(f.path)?.held_by.some(x => x.target === 'usb') === true
      expect([f.path, usb]).toEqual([f.path, !f.reasons.some(r => r.target === 'usb')])
    }

    // offloaded files are judged the same way, and --offloaded keeps only them
    await cairnJson(h.home, ['offload', 'photos', '2019/p0.jpg', '2019/p2.jpg'])
    const off = await cairnJson<Entry[]>(h.home, ['ls', 'photos', '--offloaded'])
    expect(off.map(e => [e.path, e.status, e.held_by.map(x => x.target)])).toEqual([['2019/p0.jpg', 'offloaded', ['usb']], ['2019/p2.jpg', 'offloaded', ['usb']]])
    const sub = await cairnJson<Entry[]>(h.home, ['ls', 'photos', '2019/p3.jpg'])
    expect(sub.map(e => e.path)).toEqual(['2019/p3.jpg'])
    const human = await cairn(h.home, ['ls', 'photos'])
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/2019\/p0\.jpg\s+offloaded\s+\S+ B\s+usb \(sha256-readback/)
  }, 60_000)
})
