/**
 * `cairn destination adopt NAME` (DESIGN "Destination identity", invariant 24; CLI.md): the
 * explicit, audited way for this node to take over a directory whose marker another node owns —
 * a rebuilt machine whose old key is gone. Never automatic, never over a live peer's directory.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cairn, cairnJson } from '../helpers/cli.js'
import { makeHome } from '../helpers/home.js'
import { testKey } from '../helpers/nodes.js'
import { tempDir } from '../helpers/store.js'

const OLD_MARKER = '5a'.repeat(16)

interface PushRow { destination: string, status: string, files_sent: number, error: string | null }
interface RunRow { id: number, kind: string, destination: string | null, status: string, detail: Record<string, unknown> }
interface VectorRow { destination: string, destination_key: string, destination_owner_node_id: string | null }

function markerText (markerId: string, owner: string, label: string): string {
  return `cairn-destination-v2\n${markerId}\nowner ${owner}\nlabel ${label}\n`
}

/** laptop pushes photos (two files) to usb; `owner`, if given, already owns a marker at usb. */
function setup (owner?: string): { home: string, nodeId: string, usb: string, marker: string } {
  const root = tempDir()
  const h = makeHome('laptop', undefined, root)
  mkdirSync(join(root, 'photos'))
  mkdirSync(join(root, 'usb'))
  writeFileSync(join(root, 'photos/a.jpg'), 'alpha')
  writeFileSync(join(root, 'photos/b.jpg'), 'beta')
  h.configure(`[volumes.photos]\npath = "${root}/photos"\npush_to = ["usb"]\noffload_requires = ["usb"]\n[destinations.usb]\ntype = "directory"\npath = "${root}/usb"`)
  const marker = join(root, 'usb/.cairn-destination')
  if (owner !== undefined) writeFileSync(marker, markerText(OLD_MARKER, owner, 'usb'))
  return { home: h.home, nodeId: h.nodeId, usb: join(root, 'usb'), marker }
}

async function push (home: string): Promise<{ code: number | null, rows: PushRow[], stderr: string }> {
  const r = await cairn(home, ['push', 'photos', '--json'])
  return { code: r.code, rows: r.stdout.trim() === '' ? [] : JSON.parse(r.stdout) as PushRow[], stderr: r.stderr }
}

async function resets (home: string): Promise<RunRow[]> {
  return (await cairnJson<RunRow[]>(home, ['runs'])).filter(r => r.kind === 'reset')
}

describe('cairn destination adopt', () => {
  it('refuses a directory whose marker a live peer owns, changing nothing; once that peer is revoked it may be adopted', async () => {
    const nas = testKey(51)
    const f = setup(nas.nodeId)
    await cairnJson(f.home, ['peer', 'add', 'nas', nas.nodeId, '--addr', '/ip4/127.0.0.1/tcp/1'])
    await cairnJson(f.home, ['index', 'photos'])
    // the push refuses: only the owner writes there
    const refused = await push(f.home)
    expect(refused.code).toBe(1)
    expect(refused.rows).toEqual([expect.objectContaining({ destination: 'usb', status: 'refused', files_sent: 0 })])
    const r = await cairn(f.home, ['destination', 'adopt', 'usb', '--yes'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`belongs to node nas (${nas.nodeId})`)
    expect(r.stderr).toContain('nas is a live peer')
    expect(readFileSync(f.marker, 'utf8')).toBe(markerText(OLD_MARKER, nas.nodeId, 'usb'))
    expect(await resets(f.home)).toEqual([])
    // nas is gone for good (this node replaces it): revoked, its directory may be taken over
    await cairnJson(f.home, ['peer', 'revoke', 'nas', '--yes'])
    const adopted = await cairnJson<{ previous_owner: string, previous_marker_id: string, marker_id: string }>(f.home, ['destination', 'adopt', 'usb', '--yes'])
    expect(adopted).toMatchObject({ previous_owner: nas.nodeId, previous_marker_id: OLD_MARKER })
    expect(readFileSync(f.marker, 'utf8')).toBe(markerText(adopted.marker_id, f.nodeId, 'usb'))
  })

  it('refuses a marker that already names this node: a push takes it back, with no adopt', async () => {
    const f = setup()
    await cairnJson(f.home, ['index', 'photos'])
    expect((await push(f.home)).rows).toEqual([expect.objectContaining({ status: 'success', files_sent: 2 })])
    const mine = readFileSync(f.marker, 'utf8')
    expect(mine).toContain(`owner ${f.nodeId}\n`)
    // recorded under usb: nothing to adopt
    const recorded = await cairn(f.home, ['destination', 'adopt', 'usb', '--yes'])
    expect(recorded.code).toBe(1)
    expect(recorded.stderr).toContain('the name already resolves to marker')
    // forgotten by a reset, the marker on disk still names this node: still nothing to adopt
    await cairnJson(f.home, ['destination', 'reset', 'usb', '--yes'])
    const r = await cairn(f.home, ['destination', 'adopt', 'usb', '--yes'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('the marker already names this node')
    expect(readFileSync(f.marker, 'utf8')).toBe(mine)
    expect((await resets(f.home)).map(x => x.detail.action ?? null)).toEqual([null])
    expect((await push(f.home)).rows).toEqual([expect.objectContaining({ status: 'success' })])
    expect(readFileSync(f.marker, 'utf8')).toBe(mine)
  })

  it('adopts a marker owned by a node it does not know only with --yes: a new marker id owned by this node, a reset run with action adopt, and the next push reads everything again', async () => {
    const old = testKey(52) // this machine before a rebuild: its key is gone, it was never a peer here
    const f = setup(old.nodeId)
    await cairnJson(f.home, ['index', 'photos'])
    const refused = await push(f.home)
    expect(refused.code).toBe(1)
    expect(refused.rows).toEqual([expect.objectContaining({ status: 'refused' })])
    expect(refused.rows[0]?.error).toContain(`belongs to node usb (${old.nodeId})`)
    expect(refused.rows[0]?.error).toContain('cairn destination adopt usb --yes')
    // a preview: exit 1, nothing written
    const preview = await cairn(f.home, ['destination', 'adopt', 'usb'])
    expect(preview.code).toBe(1)
    expect(preview.stdout).toContain(`would replace the marker ${OLD_MARKER}`)
    expect(preview.stdout).toContain(`${old.nodeId} (not known to this node)`)
    expect(readFileSync(f.marker, 'utf8')).toBe(markerText(OLD_MARKER, old.nodeId, 'usb'))
    expect(await resets(f.home)).toEqual([])

    const adopted = await cairnJson<{ destination: string, previous_owner: string, previous_marker_id: string, marker_id: string, run_id: number, key: string }>(f.home, ['destination', 'adopt', 'usb', '--yes'])
    expect(adopted).toMatchObject({ destination: 'usb', previous_owner: old.nodeId, previous_marker_id: OLD_MARKER })
    expect(adopted.marker_id).toMatch(/^[0-9a-f]{32}$/)
    expect(adopted.marker_id).not.toBe(OLD_MARKER)
    expect(adopted.key).toBe(`dir:${adopted.marker_id}`)
    expect(readFileSync(f.marker, 'utf8')).toBe(markerText(adopted.marker_id, f.nodeId, 'usb'))
    const runs = await resets(f.home)
    expect(runs).toEqual([expect.objectContaining({ id: adopted.run_id, kind: 'reset', destination: 'usb', status: 'success' })])
    expect(runs[0]?.detail).toMatchObject({ action: 'adopt', previous_owner: old.nodeId, previous_marker_id: OLD_MARKER, marker_id: adopted.marker_id })
    expect(runs[0]?.detail.previous_marker_text).toBe(markerText(OLD_MARKER, old.nodeId, 'usb'))

    // nothing is trusted from before: the push places every file and records evidence under the new key only
    const pushed = await push(f.home)
    expect(pushed.code).toBe(0)
    expect(pushed.rows).toEqual([expect.objectContaining({ destination: 'usb', status: 'success', files_sent: 2 })])
    const vector = await cairnJson<VectorRow[]>(f.home, ['vector', 'photos'])
    expect(vector.filter(v => v.destination_key.startsWith('dir:')).map(v => [v.destination, v.destination_key, v.destination_owner_node_id])).toEqual([['usb', adopted.key, f.nodeId]])
    expect(await cairnJson(f.home, ['offload', 'photos', '.', '--dry-run'])).toMatchObject({ selected: 2, not_durable: 0 })
    // adopting again: the name resolves to the new marker now
    const again = await cairn(f.home, ['destination', 'adopt', 'usb', '--yes'])
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('the name already resolves to marker')
  })

  it('takes only a configured directory destination', async () => {
    const f = setup()
    const r = await cairn(f.home, ['destination', 'adopt', 'offsite', '--yes'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('offsite is not a [destinations.*] entry')
  })
})
