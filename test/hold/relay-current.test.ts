import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { indexVolume } from '../../src/index/index-volume.js'
import { offloadVolume } from '../../src/offload/offload.js'
import { pullVolume } from '../../src/pull/pull.js'
import { pushToDirectory } from '../../src/push/directory-push.js'
import { pushToPeer } from '../../src/push/peer-push.js'
import { verifyDirectory } from '../../src/push/verify-directory.js'
import { enroll, inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'

/**
 * The relay chain (invariant 20) is checked against the relay's records of now, not against
 * the last assertion this node pulled: laptop requires `nas/offsite`; nas's verify finds the
 * offsite copy damaged after laptop's last pull; laptop's offload must not delete on the
 * stale claim. The hold asks nas to confirm the file is still placed at offsite.
 */

const nodes: InProcessNode[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

async function fleet (): Promise<{ root: string, laptop: InProcessNode, nas: InProcessNode }> {
  const root = tempDir('cairn-relay-')
  for (const d of ['photos/2019', 'nas-photos', 'offsite']) mkdirSync(join(root, d), { recursive: true })
  const laptop = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${root}/photos"\npush_to = ["nas"]\noffload_requires = ["nas", "nas/offsite"]\n`)
  const nas = inProcessNode(root, 'nas', `[volumes.photos]\npath = "${root}/nas-photos"\npush_to = ["offsite"]\n[destinations.offsite]\ntype = "directory"\npath = "${root}/offsite"\n`)
  nodes.push(laptop, nas)
  // each operator marks its volume directory: `cairn volume init photos`
  await laptop.initVolumes()
  await nas.initVolumes()
  await laptop.start({ holdDeadlineMs: 2000 })
  await nas.start({ holdDeadlineMs: 2000 })
  enroll(laptop, nas)
  enroll(nas, laptop)
  writeFileSync(join(root, 'photos/2019/a.jpg'), 'photo a')
  writeFileSync(join(root, 'photos/2019/b.jpg'), 'photo b')
  await indexVolume({ store: laptop.store, volume: laptop.config.volumes.get('photos')!, quick: false, logger: laptop.logger })
  const pushed = await pushToPeer({ store: laptop.store, volume: laptop.config.volumes.get('photos')!, peer: laptop.store.nodes.byNodeId(nas.key.nodeId)!, host: laptop.node!.host, logger: laptop.logger })
  expect(pushed.status).toBe('success')
  const toOffsite = await pushToDirectory({ store: nas.store, volume: nas.config.volumes.get('photos')!, destination: nas.config.destinations.get('offsite')!, shallow: false, logger: nas.logger })
  expect(toOffsite.status).toBe('success')
  const pulled = await pullVolume({ store: laptop.store, config: laptop.config, host: laptop.node!.host, peer: laptop.store.nodes.byNodeId(nas.key.nodeId)!, volume: 'photos', allowRewind: false, logger: laptop.logger })
  expect(pulled.status).toBe('success')
  return { root, laptop, nas }
}

async function offload (laptop: InProcessNode, dryRun: boolean): Promise<Awaited<ReturnType<typeof offloadVolume>>> {
  return await offloadVolume({ store: laptop.store, config: laptop.config, volume: laptop.config.volumes.get('photos')!, selectors: ['2019'], dryRun, perFile: true, logger: laptop.logger, host: laptop.node?.host })
}

describe('the relay chain at offload time', () => {
  it('deletes nothing on a relay\'s claim that the relay itself has since retracted, and says why', async () => {
    const { root, laptop, nas } = await fleet()
    expect((await offload(laptop, true)).durable).toBe(2)
    // offsite loses a.jpg; nas's verify sees it and retracts; laptop has not pulled since
    writeFileSync(join(root, 'offsite/photos/2019/a.jpg'), 'PHOTO A')
    const v = await verifyDirectory({ store: nas.store, volume: nas.config.volumes.get('photos')!, destination: nas.config.destinations.get('offsite')!, logger: nas.logger })
    expect(v.status).toBe('failed')
    // laptop's stale evidence still passes the dry run: only the hold can know better
    expect((await offload(laptop, true)).durable).toBe(2)
    const real = await offload(laptop, false)
    expect(real.offloaded).toBe(1)
    expect(existsSync(join(root, 'photos/2019/a.jpg'))).toBe(true)
    expect(existsSync(join(root, 'photos/2019/b.jpg'))).toBe(false)
    const a = real.files?.find(f => f.path === '2019/a.jpg')
    expect(a?.outcome).toBe('not-durable')
    expect(a?.reasons.map(r => [r.target, r.cause])).toContainEqual(['nas/offsite', 'not-held'])
    expect(a?.reasons.map(r => r.detail).join(' ')).toContain('placed')
  }, 30_000)
})
