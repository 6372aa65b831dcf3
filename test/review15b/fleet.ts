/** Two real nodes on 127.0.0.1 (after test/verify/peer-verify.test.ts): laptop pushes `photos` to nas. */
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'vitest'
import { indexVolume } from '../../src/index/index-volume.js'
import { whereIs } from '../../src/offload/where.js'
import { parseSelectors } from '../../src/offload/selectors.js'
import { pushToPeer } from '../../src/push/peer-push.js'
import type { PushReport } from '../../src/push/push-report.js'
import { verifyPeer } from '../../src/verify/verify-peer.js'
import { enroll, inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'

export const FILES: Record<string, Buffer> = {
  '2019/01/p1.jpg': Buffer.from('the only photo of the summer'),
  '2019/01/p2.jpg': Buffer.alloc(200_000, 3),
  '2019/02/p3.jpg': Buffer.alloc(100_000, 9)
}

export async function pushed (nodes: InProcessNode[], nasOverrides: Record<string, unknown> = {}) {
  const root = tempDir('cairn-r15b-fleet-')
  mkdirSync(join(root, 'photos'), { recursive: true })
  const laptop = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${root}/photos"\npush_to = ["nas"]\noffload_requires = ["nas"]\n`)
  const nas = inProcessNode(root, 'nas', `[volumes.photos]\npath = "${root}/nas-photos"\n`)
  nodes.push(laptop, nas)
  await laptop.initVolumes()
  await nas.initVolumes()
  await laptop.start()
  await nas.start({ pushFrameDeadlineMs: 5000, verifyFrameDeadlineMs: 5000, verifyProgressMs: 100, ...nasOverrides })
  enroll(laptop, nas)
  enroll(nas, laptop)
  for (const [p, bytes] of Object.entries(FILES)) {
    mkdirSync(join(root, 'photos', p, '..'), { recursive: true })
    writeFileSync(join(root, 'photos', p), bytes)
    utimesSync(join(root, 'photos', p), 1_700_000_000, 1_700_000_000)
  }
  const volume = laptop.config.volumes.get('photos')!
  const peer = laptop.store.nodes.byNodeId(nas.key.nodeId)!
  await indexVolume({ store: laptop.store, volume, quick: false, logger: laptop.logger })
  const tryPush = async (): Promise<PushReport> => await pushToPeer({ store: laptop.store, volume, peer, host: laptop.node!.host, logger: laptop.logger })
  const push = async (): Promise<void> => {
    const r = await tryPush()
    expect(r.status, r.error ?? '').toBe('success')
  }
  await push()
  const verify = async (sample = 0) => await verifyPeer({ store: laptop.store, config: laptop.config, host: laptop.node!.host, volume, peer, sample, logger: laptop.logger, frameDeadlineMs: 5000 })
  return { root, laptop, nas, push, tryPush, verify, volume, peer }
}

/** What the laptop's gate says of each file about nas. */
export function heldAtNas (laptop: InProcessNode): Record<string, { held: boolean, at: number | null, cause: string | null }> {
  const volume = laptop.config.volumes.get('photos')!
  const out: Record<string, { held: boolean, at: number | null, cause: string | null }> = {}
  for (const e of whereIs(laptop.store, laptop.config, volume, parseSelectors(['.'], undefined, Date.now() * 1e6), { offloadedOnly: false, nowNs: Date.now() * 1e6 })) {
    const h = e.held_by.find(x => x.target === 'nas')
    out[e.path] = { held: h !== undefined, at: h?.verified_at_ns ?? null, cause: e.not_held_by.find(x => x.target === 'nas')?.cause ?? null }
  }
  return out
}
