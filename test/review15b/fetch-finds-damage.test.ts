/**
 * Attack: laptop restores from nas (`/cairn/fetch/1.0.0`) a file whose bytes rotted at nas
 * behind unchanged size and mtime. nas's fetch handler re-hashes what it serves and sees the
 * bytes no longer match — then only logs and ends the stream. nas keeps signing custody of the
 * file it has just proven damaged (no mark, no quarantine, no index), so laptop's gate, `cairn
 * ls` and the revocation at-risk listing keep calling it held at nas, and nothing heals it.
 */
import { mkdirSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { fetchFiles, type FetchOutcome } from '../../src/fetch/client.js'
import { buildLocalAssertion } from '../../src/pull/local-assertion.js'
import type { InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'
import { sha256 } from '../helpers/volume.js'
import { FILES, pushed } from './fleet.js'
import { quiet } from './world.js'

const nodes: InProcessNode[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

describe('a fetch that finds the served bytes damaged', () => {
  it('a peer that finds a file it serves damaged stops vouching for it', async () => {
    const { root, laptop, nas, peer } = await pushed(nodes)
    const at = join(root, 'nas-photos', '2019/01/p2.jpg')
    const st = statSync(at)
    writeFileSync(at, Buffer.alloc(st.size, 0x66))
    utimesSync(at, 1_700_000_000, 1_700_000_000)
    const custody = (path: string): boolean => buildLocalAssertion(nas.store, nas.key.nodeId, 'photos', quiet).components
      .some(c => c.destination === nas.key.nodeId && c.originNode === laptop.key.nodeId && c.verifyMethod !== null && !c.exceptions.some(e => e.path === path))
    expect(custody('2019/01/p2.jpg')).toBe(true)

    const staging = tempDir('cairn-r15b-stage-')
    mkdirSync(staging, { recursive: true })
    let n = 0
    const outcomes: FetchOutcome[] = []
    await fetchFiles({
      host: laptop.node!.host,
      peer,
      volume: 'photos',
      directory: '',
      files: [{ path: '2019/01/p2.jpg', hash: sha256(FILES['2019/01/p2.jpg']!), size: FILES['2019/01/p2.jpg']!.length }],
      stage: async () => join(staging, `s${n++}`),
      each: async (_f, o) => { outcomes.push(o) },
      logger: quiet,
      frameDeadlineMs: 5000
    }).catch(() => {})
    // the restore of it failed (the client verified every byte): that part holds
    expect(outcomes.some(o => o.kind === 'staged')).toBe(false)
    // nas read the whole file and saw other bytes: its custody must not cover it any more
    expect(custody('2019/01/p2.jpg')).toBe(false)
  }, 60_000)
})
