import { describe, expect, it } from 'vitest'
import { cairn, cairnJson } from '../helpers/cli.js'
import { makeHome } from '../helpers/home.js'
import { testKey } from '../helpers/nodes.js'
import { tempDir } from '../helpers/store.js'
import { directoryKey } from '../../src/store/destinations.js'

interface VectorRow { destination: string, origin: string, origin_node_id: string, origin_run: number, verify_method: string | null, verified_at_ns: number | null, source: string, source_node_id: string | null, destination_key: string, destination_owner_node_id: string | null, destination_label: string }

/** usb's marker (this node owns it) and offsite's (nas owns it): keys sort nas, offsite, usb. */
const USB_MARKER = 'ee'.repeat(16)
const OFFSITE_KEY = directoryKey('0f'.repeat(16))
const USB_KEY = directoryKey(USB_MARKER)

function seed (): { home: string, nasId: string, selfId: string } {
  const root = tempDir()
  const h = makeHome('laptop', undefined, root)
  h.configure(`[volumes.photos]\npath = "${root}/photos"\npush_to = ["usb"]\noffload_requires = ["nas", "nas/offsite"]\n\n[destinations.usb]\ntype = "directory"\npath = "${root}/usb"`)
  const store = h.openStore()
  const nas = testKey(42)
  const nasRow = store.nodes.enrollPeer(nas.nodeId, 'nas', [])
  const self = store.nodes.self()
  const photos = store.volumes.ensure('photos', `${root}/photos`)
  // usb's first push recorded its marker; nas asserted offsite as a directory it owns
  store.db.transaction(() => {
    store.destinations.recordLocal(self.id, 'usb', USB_MARKER)
    store.destinations.notePeer(OFFSITE_KEY, nasRow.id, 'offsite')
  }).immediate()
  expect(store.destinations.local('usb')?.key).toBe(USB_KEY)
  const push = store.runs.begin({ kind: 'push', volumeId: photos.id, destination: 'usb' })
  store.vector.advanceLocal(photos.id, USB_KEY, 'sha256-readback', [{ originNodeId: self.id, originRunId: 3 }], push.id)
  store.runs.finish(push.id, 'success')
  const pull = store.runs.begin({ kind: 'pull', volumeId: photos.id, peerNodeId: nasRow.id })
  store.vector.mergePulled({
    volumeId: photos.id, sourceNodeId: nasRow.id, issuedAtNs: store.clock.nowNs(), assertionId: null, runId: pull.id, allowRewind: false, freshness: [],
    components: [
      { destination: nas.nodeId, originNodeId: self.id, originRunId: 3, verifyMethod: 'peer-sha256', relayedVerifiedAtNs: store.clock.nowNs() - 1e9 },
      { destination: OFFSITE_KEY, originNodeId: self.id, originRunId: 3, verifyMethod: 'sha256-readback', relayedVerifiedAtNs: store.clock.nowNs() - 2e9 }
    ]
  })
  store.runs.finish(pull.id, 'success')
  store.close()
  return { home: h.home, nasId: nas.nodeId, selfId: self.nodeId }
}

describe('cairn vector', () => {
  it('shows source as "local" or the peer\'s name, peer destinations by their local name, and directories by label with key and owner', async () => {
    const { home, nasId, selfId } = seed()
    const rows = await cairnJson<VectorRow[]>(home, ['vector', 'photos'])
    expect(rows.map(r => [r.destination, r.origin, r.origin_run, r.verify_method, r.source, r.source_node_id])).toEqual([
      ['nas', 'laptop', 3, 'peer-sha256', 'nas', nasId],
      ['offsite (nas\'s)', 'laptop', 3, 'sha256-readback', 'nas', nasId],
      ['usb', 'laptop', 3, 'sha256-readback', 'local', null]
    ])
    expect(rows.map(r => [r.destination_key, r.destination_owner_node_id, r.destination_label])).toEqual([
      [nasId, nasId, 'nas'],
      [OFFSITE_KEY, nasId, 'offsite'],
      [USB_KEY, selfId, 'usb']
    ])
    const human = await cairn(home, ['vector', 'photos'])
    expect(human.stdout).toContain('asserted by peer nas')
    expect(human.stdout).toContain('locally verified')
  })

  it('prints history oldest first, and rewinds only with --yes (a preview exits 1)', async () => {
    const { home } = seed()
    const preview = await cairn(home, ['vector', 'rewind', 'photos', 'usb', 'laptop', '1'])
    expect(preview.code).toBe(1)
    expect(preview.stdout).toContain('would lower photos/usb origin laptop from run 3 to run 1')
    const done = await cairnJson<{ run_id: number, from: number, to: number, destination: string, origin: string }>(home, ['vector', 'rewind', 'photos', 'usb', 'laptop', '1', '--yes'])
    expect(done).toMatchObject({ from: 3, to: 1, destination: 'usb', origin: 'laptop' })
    const history = await cairnJson<Array<{ destination: string, origin_run: number, source: string }>>(home, ['vector', 'history', 'photos'])
    expect(history.map(h => [h.destination, h.origin_run, h.source])).toEqual([
      ['usb', 3, 'local'], ['nas', 3, 'nas'], ['offsite (nas\'s)', 3, 'nas'], ['usb', 1, 'local']
    ])
    const runs = await cairnJson<Array<{ kind: string, detail: { from: number, to: number } }>>(home, ['runs'])
    expect(runs[0]).toMatchObject({ kind: 'rewind', detail: { from: 3, to: 1 } })
  })

  it('refuses a rewind that would not lower the component', async () => {
    const { home } = seed()
    const r = await cairn(home, ['vector', 'rewind', 'photos', 'usb', 'laptop', '5', '--yes'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('would not lower it')
  })

  it('rewinds a component named by its key as `vector --json` prints it, the same as by its config name', async () => {
    const { home } = seed()
    const preview = await cairn(home, ['vector', 'rewind', 'photos', OFFSITE_KEY, 'laptop', '1'])
    expect(preview.code).toBe(1)
    expect(preview.stdout).toContain('would lower photos/offsite (nas\'s) origin laptop from run 3 to run 1')
    const done = await cairnJson<{ from: number, to: number, destination: string }>(home, ['vector', 'rewind', 'photos', USB_KEY, 'laptop', '2', '--yes'])
    expect(done).toMatchObject({ from: 3, to: 2, destination: 'usb' })
    const rows = await cairnJson<VectorRow[]>(home, ['vector', 'photos'])
    expect(rows.map(r => [r.destination_key, r.origin_run])).toEqual([[expect.any(String), 3], [OFFSITE_KEY, 3], [USB_KEY, 2]])
  })

  it('refuses a rewind of a name that resolves to no key, and changes nothing', async () => {
    const { home } = seed()
    const r = await cairn(home, ['vector', 'rewind', 'photos', 'offsite', 'laptop', '1', '--yes'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('offsite resolves to no destination key here')
    const rows = await cairnJson<VectorRow[]>(home, ['vector', 'photos'])
    expect(rows.map(r => r.origin_run)).toEqual([3, 3, 3])
  })

  it('names an unknown volume and lists the known ones', async () => {
    const { home } = seed()
    const r = await cairn(home, ['vector', 'music'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('no volume named music in the config (known: photos)')
  })
})

describe('cairn destination reset', () => {
  it('previews without --yes (exit 1), dry-runs with exit 0, and forgets evidence and the recorded marker with --yes while history stays', async () => {
    const { home } = seed()
    expect((await cairn(home, ['destination', 'reset', 'usb'])).code).toBe(1)
    const dry = await cairnJson<{ dry_run: boolean, components: number, run_id: null, marker_id: string }>(home, ['destination', 'reset', 'usb', '--dry-run'])
    expect(dry).toMatchObject({ dry_run: true, components: 1, run_id: null, marker_id: USB_MARKER })
    const done = await cairnJson<{ destination: string, dry_run: boolean, components: number, freshness: number, run_id: number, marker_id: string }>(home, ['destination', 'reset', 'usb', '--yes'])
    expect(done).toMatchObject({ destination: 'usb', dry_run: false, components: 1, marker_id: USB_MARKER })
    expect(done.run_id).toBeGreaterThan(0)
    const rows = await cairnJson<VectorRow[]>(home, ['vector', 'photos'])
    expect(rows.map(r => r.destination)).toEqual(['nas', 'offsite (nas\'s)'])
    const history = await cairnJson<Array<{ destination: string }>>(home, ['vector', 'history', 'photos'])
    expect(history).toHaveLength(3)
    // the history keeps the forgotten marker's evidence, shown as reset
    expect(history[0]?.destination).toBe('usb (reset)')
    const runs = await cairnJson<Array<{ id: number, kind: string, destination: string }>>(home, ['runs'])
    expect(runs[0]).toMatchObject({ id: done.run_id, kind: 'reset', destination: 'usb' })
  })

  it('takes only a configured directory destination: a peer or a peer\'s directory is a usage error and changes nothing', async () => {
    const { home } = seed()
    for (const name of ['offsite', 'nas/offsite', 'nas']) {
      const r = await cairn(home, ['destination', 'reset', name, '--yes'])
      expect(r.code).toBe(2)
      expect(r.stderr).toContain(`${name} is not a [destinations.*] entry`)
    }
    const rows = await cairnJson<VectorRow[]>(home, ['vector', 'photos'])
    expect(rows).toHaveLength(3)
    expect((await cairnJson<Array<{ kind: string }>>(home, ['runs'])).map(r => r.kind)).not.toContain('reset')
  })
})
