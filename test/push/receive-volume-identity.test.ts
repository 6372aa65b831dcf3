/**
 * A receiver checks its own volume root's identity at the offer (issue 14, docs/volumes.md):
 * an unmounted disk (the bare mount point), a root whose recorded marker is another one, and an
 * empty root that no operator marked yet are refused with a status and a log line, and nothing
 * is written there — no file, no staging directory, no marker, no receive run.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { indexVolume } from '../../src/index/index-volume.js'
import { pushToPeer } from '../../src/push/peer-push.js'
import { formatVolumeMarker, parseVolumeMarker, VOLUME_MARKER_FILE } from '../../src/push/volume-marker.js'
import { enroll, inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'

const nodes: InProcessNode[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

async function twoNodes (): Promise<{ root: string, laptop: InProcessNode, nas: InProcessNode, push: () => ReturnType<typeof pushToPeer> }> {
  const root = tempDir('cairn-recv-identity-')
  mkdirSync(join(root, 'photos'))
  mkdirSync(join(root, 'nas-photos'))
  writeFileSync(join(root, 'photos/a.jpg'), 'alpha')
  const laptop = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${root}/photos"\n`)
  const nas = inProcessNode(root, 'nas', `[volumes.photos]\npath = "${root}/nas-photos"\n`)
  nodes.push(laptop, nas)
  await nas.start({ pushFrameDeadlineMs: 2000 })
  await laptop.start()
  enroll(laptop, nas)
  enroll(nas, laptop)
  await indexVolume({ store: laptop.store, volume: laptop.config.volumes.get('photos')!, quick: false, logger: laptop.logger })
  const nasRow = laptop.store.nodes.byNodeId(nas.key.nodeId)!
  const push = async (): ReturnType<typeof pushToPeer> => await pushToPeer({ store: laptop.store, volume: laptop.config.volumes.get('photos')!, peer: nasRow, host: laptop.node!.host, logger: laptop.logger })
  return { root, laptop, nas, push }
}

const receiveRuns = (n: InProcessNode): number => n.store.runs.list({ kind: 'receive' }).length
const refusedLines = (n: InProcessNode): unknown[] => n.logs.records.filter(r => r.msg === 'refused a push: the volume root is not this volume\'s disk').map(r => r.fields?.error)

describe('a receiver\'s own volume identity', () => {
  it('refuses the first push into an empty volume directory no operator marked (maybe a bare mount point), then takes it after `volume init`', async () => {
    const { root, nas, push } = await twoNodes()
    const r = await push()
    expect(r.status).toBe('refused')
    expect(r.error).toContain('volume init')
    expect(readdirSync(join(root, 'nas-photos'))).toEqual([])
    expect(receiveRuns(nas)).toBe(0)
    expect(refusedLines(nas)).toEqual(['VolumeRootEmptyError'])
    await nas.initVolumes()
    expect(await push()).toMatchObject({ status: 'success', filesSent: 1 })
    expect(readFileSync(join(root, 'nas-photos/a.jpg'), 'utf8')).toBe('alpha')
  })

  it('refuses a push into an unmounted disk (its marker gone, the mount point empty) and writes nothing there', async () => {
    const { root, nas, push } = await twoNodes()
    await nas.initVolumes()
    expect((await push()).status).toBe('success')
    const runs = receiveRuns(nas)
    renameSync(join(root, 'nas-photos'), join(root, 'nas-disk-away'))
    mkdirSync(join(root, 'nas-photos'))
    writeFileSync(join(root, 'photos/b.jpg'), 'beta')
    await indexVolume({ store: nodes[0]!.store, volume: nodes[0]!.config.volumes.get('photos')!, quick: false, logger: nodes[0]!.logger })
    const r = await push()
    expect(r.status).toBe('refused')
    expect(readdirSync(join(root, 'nas-photos'))).toEqual([])
    expect(receiveRuns(nas)).toBe(runs)
    expect(refusedLines(nas)).toEqual(['VolumeMarkerError'])
    // nas's record of what it holds is untouched (a.jpg stays present on its real disk)
    const vol = nas.store.volumes.get('photos')!
    expect(nas.store.files.live(vol.id).get('a.jpg')?.status).toBe('present')
  })

  it('refuses a push into a root whose marker is another one (another disk mounted there)', async () => {
    const { root, nas, push } = await twoNodes()
    await nas.initVolumes()
    expect((await push()).status).toBe('success')
    const other = formatVolumeMarker('0123456789abcdef0123456789abcdef', nas.key.nodeId, 'photos')
    writeFileSync(join(root, 'nas-photos', VOLUME_MARKER_FILE), other)
    writeFileSync(join(root, 'photos/b.jpg'), 'beta')
    await indexVolume({ store: nodes[0]!.store, volume: nodes[0]!.config.volumes.get('photos')!, quick: false, logger: nodes[0]!.logger })
    expect((await push()).status).toBe('refused')
    expect(existsSync(join(root, 'nas-photos/b.jpg'))).toBe(false)
    expect(readFileSync(join(root, 'nas-photos', VOLUME_MARKER_FILE), 'utf8')).toBe(other)
    expect(refusedLines(nas)).toEqual(['VolumeMarkerError'])
  })

  it('writes the marker at the first push into a non-empty, unmarked volume root, before the first byte lands, and records it', async () => {
    const { root, nas, push } = await twoNodes()
    writeFileSync(join(root, 'nas-photos/own.jpg'), 'nas\'s own file')
    expect((await push()).status).toBe('success')
    const m = parseVolumeMarker(readFileSync(join(root, 'nas-photos', VOLUME_MARKER_FILE), 'utf8'))
    expect(m).toMatchObject({ kind: 'v2', ownerNodeId: nas.key.nodeId, volume: 'photos' })
    expect(nas.store.volumes.get('photos')?.markerId).toBe(m.kind === 'v2' ? m.markerId : 'none')
  })
})
