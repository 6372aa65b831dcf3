/**
 * Attack: a sampled peer verify finds a file missing (or damaged) and, as designed, leaves the
 * decision to an escalated full re-read. When that full re-read does not complete — cut at
 * VERIFY_MAX_MS (a volume too large for a full re-read is exactly why --sample exists), the node
 * stopping, the requester going away, or a receive taking the volume in the window between the
 * sample's run and the full one (BUSY) — nothing the sample found is recorded: nas keeps
 * signing custody of a file it has just seen gone, the requester writes nothing, and the next
 * scheduled sample may never draw that file again. laptop's gate keeps passing it.
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { rereadForPeer } from '../../src/verify/reread.js'
import { nasWorld, quiet, received, rot } from './world.js'

describe('a sample that found a problem, then an escalation that did not complete', () => {
  it('a sampled file found missing loses custody even when the escalated full re-read is cut short', async () => {
    const w = nasWorld()
    await received(w)
    rmSync(join(w.volume.path, '2019/p3.jpg'))
    expect(w.vouches('2019/p3.jpg')).toBe(true) // nas has not looked yet
    const cut = new AbortController()
    // the overall limit strikes just as the escalation starts
    const logger = { ...quiet, warn: (msg: string) => { if (msg.startsWith('a sampled file was missing')) cut.abort(new Error('VERIFY_MAX_MS')) } }
    const r = await rereadForPeer({ store: w.store, volume: w.volume, sample: 5, requestedBy: { peerNodeId: w.laptop.rowId, name: 'laptop' }, logger, signal: cut.signal, random: () => 0.5 })
    expect(r.escalated).toBe(true)
    expect(r.status).toBe('aborted') // answered INTERNAL: the requester writes nothing
    // nas saw the file gone: it must stop vouching for it
    expect(w.vouches('2019/p3.jpg')).toBe(false)
  })

  it('a sampled file found missing loses custody even when the escalation finds the volume busy', async () => {
    const w = nasWorld()
    await received(w)
    rmSync(join(w.volume.path, '2019/p3.jpg'))
    // a receive from laptop takes the volume in the window between the sample's run and the full re-read's
    const logger = { ...quiet, warn: (msg: string) => { if (msg.startsWith('a sampled file was missing')) w.store.runs.begin({ kind: 'receive', volumeId: w.vol, peerNodeId: w.laptop.rowId }) } }
    await expect(rereadForPeer({ store: w.store, volume: w.volume, sample: 5, requestedBy: { peerNodeId: w.laptop.rowId, name: 'laptop' }, logger, random: () => 0.5 })).rejects.toThrow(/RunConflict|busy|running|conflict/i)
    expect(w.vouches('2019/p3.jpg')).toBe(false)
  })

  it('a sampled file found damaged loses custody even when the requester goes away during the escalated full re-read', async () => {
    // the damaged case is the dangerous one: a hold at nas checks only size and mtime, so
    // laptop's offload would take the hold and delete its copy on nas's stale word
    const w = nasWorld()
    await received(w)
    rot(w, '2019/p3.jpg')
    const gone = new AbortController()
    // laptop's scheduled verify: it goes to sleep while nas re-reads everything
    const logger = { ...quiet, warn: (msg: string) => { if (msg.startsWith('a sampled file was missing')) setTimeout(() => { gone.abort(new Error('the peer went away')) }, 0) } }
    const r = await rereadForPeer({ store: w.store, volume: w.volume, sample: 5, requestedBy: { peerNodeId: w.laptop.rowId, name: 'laptop' }, logger, signal: gone.signal, random: () => 0.5 })
    expect(r.escalated).toBe(true)
    expect(w.vouches('2019/p3.jpg')).toBe(false)
  })
})
