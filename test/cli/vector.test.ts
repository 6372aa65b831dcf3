import { describe, expect, it } from 'vitest'
import { cairn, cairnJson } from '../helpers/cli.js'
import { makeHome } from '../helpers/home.js'
import { testKey } from '../helpers/nodes.js'
import { tempDir } from '../helpers/store.js'

interface VectorRow { destination: string, origin: string, origin_node_id: string, origin_run: number, verify_method: string | null, verified_at_ns: number | null, source: string, source_node_id: string | null }

function seed (): { home: string, nasId: string } {
  const root = tempDir()
  const h = makeHome('laptop', undefined, root)
  h.configure(`[volumes.photos]\npath = "${root}/photos"\npush_to = ["usb"]\noffload_requires = ["nas", "offsite"]\n\n[destinations.usb]\ntype = "directory"\npath = "${root}/usb"`)
  const store = h.openStore()
  const nas = testKey(42)
  const nasRow = store.nodes.enrollPeer(nas.nodeId, 'nas', [])
  const self = store.nodes.self()
  const photos = store.volumes.ensure('photos', `${root}/photos`)
  const push = store.runs.begin({ kind: 'push', volumeId: photos.id, destination: 'usb' })
  store.vector.advanceLocal(photos.id, 'usb', 'sha256-readback', [{ originNodeId: self.id, originRunId: 3 }], push.id)
  store.runs.finish(push.id, 'success')
  const pull = store.runs.begin({ kind: 'pull', volumeId: photos.id, peerNodeId: nasRow.id })
  store.vector.mergePulled({
    volumeId: photos.id, sourceNodeId: nasRow.id, issuedAtNs: store.clock.nowNs(), assertionId: null, runId: pull.id, allowRewind: false, freshness: [],
    components: [
      { destination: nas.nodeId, originNodeId: self.id, originRunId: 3, verifyMethod: 'peer-sha256', relayedVerifiedAtNs: store.clock.nowNs() - 1e9 },
      { destination: 'offsite', originNodeId: self.id, originRunId: 3, verifyMethod: 'sha256-readback', relayedVerifiedAtNs: store.clock.nowNs() - 2e9 }
    ]
  })
  store.runs.finish(pull.id, 'success')
  store.close()
  return { home: h.home, nasId: nas.nodeId }
}

describe('cairn vector', () => {
  it('shows source as "local" or the peer\'s name, and peer destinations by their local name', async () => {
    const { home, nasId } = seed()
    const rows = await cairnJson<VectorRow[]>(home, ['vector', 'photos'])
    expect(rows.map(r => [r.destination, r.origin, r.origin_run, r.verify_method, r.source, r.source_node_id])).toEqual([
      ['nas', 'laptop', 3, 'peer-sha256', 'nas', nasId],
      ['offsite', 'laptop', 3, 'sha256-readback', 'nas', nasId],
      ['usb', 'laptop', 3, 'sha256-readback', 'local', null]
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
      ['usb', 3, 'local'], ['nas', 3, 'nas'], ['offsite', 3, 'nas'], ['usb', 1, 'local']
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

  it('names an unknown volume and lists the known ones', async () => {
    const { home } = seed()
    const r = await cairn(home, ['vector', 'music'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('no volume named music in the config (known: photos)')
  })
})

describe('cairn destination reset', () => {
  it('previews without --yes (exit 1), dry-runs with exit 0, and forgets evidence with --yes while history stays', async () => {
    const { home } = seed()
    expect((await cairn(home, ['destination', 'reset', 'offsite'])).code).toBe(1)
    const dry = await cairnJson<{ dry_run: boolean, components: number, run_id: null }>(home, ['destination', 'reset', 'offsite', '--dry-run'])
    expect(dry).toMatchObject({ dry_run: true, components: 1, run_id: null })
    const done = await cairnJson<{ destination: string, dry_run: boolean, components: number, freshness: number, run_id: number }>(home, ['destination', 'reset', 'offsite', '--yes'])
    expect(done).toMatchObject({ destination: 'offsite', dry_run: false, components: 1 })
    expect(done.run_id).toBeGreaterThan(0)
    const rows = await cairnJson<VectorRow[]>(home, ['vector', 'photos'])
    expect(rows.map(r => r.destination)).toEqual(['nas', 'usb'])
    const history = await cairnJson<unknown[]>(home, ['vector', 'history', 'photos'])
    expect(history).toHaveLength(3)
  })
})
