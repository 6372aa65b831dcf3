import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cairn, cairnJson } from '../helpers/cli.js'
import { makeHome } from '../helpers/home.js'
import { tempDir } from '../helpers/store.js'

function setup (): { home: string, root: string } {
  const root = tempDir()
  const h = makeHome('laptop', undefined, root)
  mkdirSync(join(root, 'photos/2019'), { recursive: true })
  mkdirSync(join(root, 'usb'))
  writeFileSync(join(root, 'photos/2019/p1.jpg'), 'one')
  writeFileSync(join(root, 'photos/2019/p2.jpg'), 'two')
  h.configure(`[volumes.photos]\npath = "${root}/photos"\npush_to = ["usb"]\noffload_requires = ["usb", "offsite"]\n[destinations.usb]\ntype = "directory"\npath = "${root}/usb"`)
  return { home: h.home, root }
}

describe('cairn offload --json', () => {
  it('prints the documented report, with files under --per-file', async () => {
    const { home } = setup()
    await cairnJson(home, ['index', 'photos'])
    await cairnJson(home, ['push', 'photos'])
    const r = await cairnJson<Record<string, unknown> & { groups: Array<Record<string, unknown>>, files: Array<Record<string, unknown>> }>(home, ['offload', 'photos', '.', '--dry-run', '--per-file'])
    expect(r).toMatchObject({ volume: 'photos', dry_run: true, run_id: null, selected: 2, offloaded: 0, not_durable: 2, drift: 0, errors: 0 })
    expect(Object.keys(r)).toEqual(expect.arrayContaining(['volume', 'dry_run', 'run_id', 'selected', 'offloaded', 'not_durable', 'drift', 'errors', 'groups', 'requirements', 'files']))
    expect(r.groups).toEqual([{ target: 'offsite', cause: 'no-evidence', files: 2, summary: '2 files: no evidence at offsite', advice: expect.stringContaining('a pull from the peer that pushes to offsite'), example_path: '2019/p1.jpg', detail: expect.any(String), provenance: 'none' }])
    expect(r.requirements).toEqual([{ target: 'usb', satisfied: 2, blocked: 0 }, { target: 'offsite', satisfied: 0, blocked: 2 }])
    expect(r.files[0]).toEqual({ path: '2019/p1.jpg', outcome: 'not-durable', reasons: [{ target: 'offsite', cause: 'no-evidence', detail: expect.any(String), provenance: 'none' }] })
  })

  it('exits 0 when the gate blocks files, and 2 without a selector', async () => {
    const { home } = setup()
    await cairnJson(home, ['index', 'photos'])
    expect((await cairn(home, ['offload', 'photos', '2019'])).code).toBe(0)
    const none = await cairn(home, ['offload', 'photos'])
    expect(none.code).toBe(1)
    expect(none.stderr).toContain('at least one path')
  })
})

describe('push_to names', () => {
  it('refuses to push to a name that is neither a destination nor an enrolled peer, naming the file and key', async () => {
    const { home } = setup()
    const cfg = join(home, 'cairn.toml')
    const { readFileSync } = await import('node:fs')
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('push_to = ["usb"]', 'push_to = ["usb", "nas"]'))
    await cairnJson(home, ['index', 'photos'])
    const r = await cairn(home, ['push', 'photos'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`${cfg}: volumes.photos.push_to: expected a configured destination (usb) or an enrolled peer (none), got "nas"`)
    // every other command still works, e.g. to enroll nas
    expect((await cairn(home, ['vector', 'photos'])).code).toBe(0)
  })
})
