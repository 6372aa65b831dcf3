import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'

async function until (cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

describe('scheduled work in a serving node', () => {
  const nodes: InProcessNode[] = []
  afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

  it('indexes, pushes to a directory and verifies it on schedule, each a recorded run, index before push, and later files follow with no command', async () => {
    const root = tempDir('cairn-sched-')
    mkdirSync(join(root, 'photos/2019'), { recursive: true })
    mkdirSync(join(root, 'usb'))
    for (let i = 0; i < 3; i++) writeFileSync(join(root, `photos/2019/p${i}.jpg`), `photo ${i}`.repeat(100))
    const laptop = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${root}/photos"\npush_to = ["usb"]\noffload_requires = ["usb"]\nindex_every = "1s"\npush_every = "1s"\nverify_every = "1s"\n[destinations.usb]\ntype = "directory"\npath = "${root}/usb"\n`)
    nodes.push(laptop)
    await laptop.start({ schedules: true })
    const vol = (): number => laptop.store.volumes.get('photos')?.id ?? -1
    const done = (kind: string): number => laptop.store.runs.list({ volumeId: vol(), limit: 100 }).filter(r => r.kind === kind && r.status === 'success').length
    // verify waits one interval after start; index and push come at once
    const usbKey = (): string => laptop.store.destinations.local('usb')?.key ?? ''
    await until(() => done('index') >= 1 && done('verify') >= 1 && laptop.store.placements.forVolume(usbKey(), vol()).size === 3)
    // of one volume's jobs due at start, the index runs before the push
    const first = laptop.store.runs.list({ volumeId: vol(), limit: 100 }).reverse()
    expect(first.map(r => r.kind).slice(0, 2)).toEqual(['index', 'push'])
    expect(first[1]?.fileCount).toBe(3)
    const rows = laptop.store.schedules.forVolume(vol())
    expect(rows.map(r => r.kind).sort()).toEqual(['index', 'push', 'rehash', 'verify'])
    for (const r of rows.filter(x => x.kind !== 'rehash')) expect(r.lastStatus).toBe('success')
    expect(rows.find(r => r.kind === 'rehash')?.lastStatus).toBeNull()
    // a file added later is indexed and pushed with no command
    writeFileSync(join(root, 'photos/2019/new.jpg'), 'new')
    await until(() => laptop.store.placements.forVolume(usbKey(), vol()).size === 4)
  }, 30_000)
})
