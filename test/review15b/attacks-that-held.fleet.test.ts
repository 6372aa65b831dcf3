/**
 * Attacks on peer verify that HELD (these pass): kept so the next reader knows they were tried.
 */
import { join } from 'node:path'
import { statSync, utimesSync, writeFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { revokeSource } from '../../src/store/revocation.js'
import type { InProcessNode } from '../helpers/fleet.js'
import { heldAtNas, pushed } from './fleet.js'

const nodes: InProcessNode[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

describe('peer verify attacks that held', () => {
  it('an assertion a verify brings back after the peer was revoked mid-verify is refused; nothing of the peer is live', async () => {
    const { laptop, nas, verify, peer } = await pushed(nodes)
    const vol = laptop.store.volumes.get('photos')!.id
    const pending = verify()
    // the operator revokes nas while it re-reads (the request is on the wire)
    revokeSource(laptop.store, peer.id)
    const r = await pending.catch(err => ({ status: 'threw', error: String(err) }))
    expect(r.status).not.toBe('success')
    expect(laptop.store.vector.list(vol).filter(c => c.sourceNodeId === peer.id)).toEqual([])
    expect(Object.values(heldAtNas(laptop)).every(h => !h.held)).toBe(true)
    expect(nas.key.nodeId).toBe(peer.nodeId)
  }, 60_000)

  it('a sample never renews the peer\'s custody age past the oldest file it did not re-read', async () => {
    const { laptop, verify } = await pushed(nodes)
    const before = heldAtNas(laptop)
    const t0 = Math.min(...Object.values(before).map(h => h.at ?? 0))
    for (let i = 0; i < 3; i++) {
      const r = await verify(2)
      expect(r.status, r.error ?? '').toBe('success')
    }
    // three samples of two out of three: whatever was drawn, the claim is at most as young as
    // the oldest read behind it (a file never drawn keeps t0)
    const ats = Object.values(heldAtNas(laptop)).map(h => h.at ?? 0)
    expect(ats.every(a => a >= t0)).toBe(true)
    expect(new Set(ats).size).toBe(1) // one custody claim, one instant for all its files
  }, 60_000)

  it('a damaged file at nas with the size and mtime it had is retracted by a full verify even when a push held it first (no re-read)', async () => {
    const { root, laptop, verify, push } = await pushed(nodes)
    const at = join(root, 'nas-photos', '2019/02/p3.jpg')
    const st = statSync(at)
    writeFileSync(at, Buffer.alloc(st.size, 0x42))
    utimesSync(at, 1_700_000_000, 1_700_000_000)
    // the push holds it on size and mtime (the design's metadata trust), keeping its old read instant
    await push()
    const r = await verify()
    expect(r.status).toBe('failed')
    expect(r.problems).toEqual([{ path: '2019/02/p3.jpg', problem: 'mismatched' }])
    expect(heldAtNas(laptop)['2019/02/p3.jpg']?.held).toBe(false)
    await push()
    expect((await verify()).status).toBe('success')
    expect(Object.values(heldAtNas(laptop)).every(h => h.held)).toBe(true)
  }, 60_000)
})
