import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { directoryKey } from '../../src/store/destinations.js'
import { cairn, cairnJson } from '../helpers/cli.js'
import { makeHome, type TestHome } from '../helpers/home.js'
import { testKey } from '../helpers/nodes.js'
import { tempDir } from '../helpers/store.js'

/**
 * laptop pushes photos to usb and requires usb and `nas/offsite`, a directory only the enrolled
 * peer nas reaches (nas never pushed anything here, so there is no evidence for it yet).
 */
function setup (requires = '["usb", "nas/offsite"]'): { home: string, root: string, openStore: TestHome['openStore'] } {
  const root = tempDir()
  const h = makeHome('laptop', undefined, root)
  const nas = testKey(61)
  const store = h.openStore()
  store.nodes.enrollPeer(nas.nodeId, 'nas', ['/ip4/127.0.0.1/tcp/1'])
  store.close()
  mkdirSync(join(root, 'photos/2019'), { recursive: true })
  mkdirSync(join(root, 'usb'))
  writeFileSync(join(root, 'photos/2019/p1.jpg'), 'one')
  writeFileSync(join(root, 'photos/2019/p2.jpg'), 'two')
  h.configure(`[volumes.photos]\npath = "${root}/photos"\npush_to = ["usb"]\noffload_requires = ${requires}\n[destinations.usb]\ntype = "directory"\npath = "${root}/usb"`)
  return { home: h.home, root, openStore: h.openStore }
}

describe('cairn offload --json', () => {
  it('prints the documented report, with files under --per-file', async () => {
    const { home } = setup()
    await cairnJson(home, ['index', 'photos'])
    await cairnJson(home, ['push', 'photos'])
    const r = await cairnJson<Record<string, unknown> & { groups: Array<Record<string, unknown>>, files: Array<Record<string, unknown>> }>(home, ['offload', 'photos', '.', '--dry-run', '--per-file'])
    expect(r).toMatchObject({ volume: 'photos', dry_run: true, run_id: null, selected: 2, offloaded: 0, not_durable: 2, drift: 0, errors: 0 })
    expect(Object.keys(r)).toEqual(expect.arrayContaining(['volume', 'dry_run', 'run_id', 'selected', 'offloaded', 'not_durable', 'drift', 'errors', 'groups', 'requirements', 'files']))
    // nas holds none of these files, so nothing it could say about offsite would cover them
    expect(r.groups).toEqual([{ target: 'nas/offsite', cause: 'relay-not-holding', files: 2, summary: '2 files: the relay to nas/offsite has not confirmed it holds them', advice: 'push to nas so it holds this file, then pull from it after its next push to nas/offsite', example_path: '2019/p1.jpg', detail: 'nas has not confirmed it holds this file, so its word about nas/offsite does not cover it', provenance: 'none' }])
    expect(r.requirements).toEqual([{ target: 'usb', satisfied: 2, blocked: 0 }, { target: 'nas/offsite', satisfied: 0, blocked: 2 }])
    expect(r.files[0]).toEqual({ path: '2019/p1.jpg', outcome: 'not-durable', reasons: [{ target: 'nas/offsite', cause: 'relay-not-holding', detail: expect.any(String), provenance: 'none' }] })
  })

  it('exits 0 when the gate blocks files, and 2 without a selector', async () => {
    const { home } = setup()
    await cairnJson(home, ['index', 'photos'])
    expect((await cairn(home, ['offload', 'photos', '2019'])).code).toBe(0)
    const none = await cairn(home, ['offload', 'photos'])
    expect(none.code).toBe(2)
    expect(none.stderr).toContain('at least one path')
  })
})

describe('target names', () => {
  it('refuses to push to a name that is neither a destination nor an enrolled peer, naming the file and key', async () => {
    const { home } = setup()
    const cfg = join(home, 'cairn.toml')
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('push_to = ["usb"]', 'push_to = ["usb", "desk"]'))
    await cairnJson(home, ['index', 'photos'])
    const r = await cairn(home, ['push', 'photos'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`${cfg}: volumes.photos.push_to: "desk" is not a [destinations.*] entry, an enrolled peer, or PEER/NAME of one`)
    expect(await cairnJson<unknown[]>(home, ['runs', '--volume', 'photos'])).toEqual([expect.objectContaining({ kind: 'index' })])
    // every other command still works, e.g. to read the evidence or enroll desk
    expect((await cairn(home, ['vector', 'photos'])).code).toBe(0)
  })

  it('names the closest known name for a typo', async () => {
    const { home } = setup('["usb", "nass"]')
    await cairnJson(home, ['index', 'photos'])
    const r = await cairn(home, ['push', 'photos'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`volumes.photos.offload_requires: "nass" is not a [destinations.*] entry, an enrolled peer, or PEER/NAME of one; did you mean "nas"?`)
  })

  it('refuses a bare label that names no destination or peer: push and offload never read it as a peer\'s directory', async () => {
    // "offsite" is what nas calls its directory; only `nas/offsite` names it here
    const { home, openStore } = setup('["usb", "offsite"]')
    await cairnJson(home, ['index', 'photos'])
    for (const args of [['push', 'photos'], ['offload', 'photos', '.', '--dry-run']]) {
      const r = await cairn(home, args)
      expect(r.code).toBe(1)
      expect(r.stderr).toContain('volumes.photos.offload_requires: "offsite" is not a [destinations.*] entry, an enrolled peer, or PEER/NAME of one')
    }
    expect(await cairnJson<Array<{ kind: string }>>(home, ['runs', '--volume', 'photos'])).toEqual([expect.objectContaining({ kind: 'index' })])
    // once nas has asserted a directory it labels offsite, the refusal points at its name here
    const store = openStore()
    store.db.transaction(() => store.destinations.notePeer(directoryKey('0f'.repeat(16)), store.nodes.livePeerByName('nas')!.id, 'offsite')).immediate()
    store.close()
    const hinted = await cairn(home, ['push', 'photos'])
    expect(hinted.code).toBe(1)
    expect(hinted.stderr).toContain('"offsite" is not a [destinations.*] entry, an enrolled peer, or PEER/NAME of one; did you mean "nas/offsite"?')
  })
})
