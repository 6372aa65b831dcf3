/**
 * A real kill (SIGKILL through the crash point hook) between the unlink and the offloaded mark
 * is recovered by the next command, whatever it is: the row says offloaded, `runs` lists the
 * recovery. Needs `npm run build` (runs bin/cairn.js).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cairn, cairnJson } from '../helpers/cli.js'
import { makeHome } from '../helpers/home.js'
import { tempDir } from '../helpers/store.js'

describe('cairn after a killed offload', () => {
  it('marks a file the killed offload had already unlinked as offloaded at the next command, and lists the recovery in runs', async () => {
    const root = tempDir()
    const h = makeHome('laptop', undefined, root)
    mkdirSync(join(root, 'photos/2019'), { recursive: true })
    mkdirSync(join(root, 'usb'))
    writeFileSync(join(root, 'photos/2019/p1.jpg'), 'one')
    h.configure(`[volumes.photos]\npath = "${root}/photos"\npush_to = ["usb"]\noffload_requires = ["usb"]\n[destinations.usb]\ntype = "directory"\npath = "${root}/usb"`)
    await cairnJson(h.home, ['index', 'photos'])
    await cairnJson(h.home, ['push', 'photos'])
    const killed = await cairn(h.home, ['offload', 'photos', '.'], { env: { CAIRN_CRASH_AT: '1', CAIRN_CRASH_MATCH: 'unlink:mark-offloaded' } })
    expect(killed.code).toBeNull() // killed by the signal
    expect(existsSync(join(root, 'photos/2019/p1.jpg'))).toBe(false)
    // any command recovers; `runs` shows the recovery and the killed offload it reaped
    const runs = await cairnJson<Array<{ id: number, kind: string, status: string, detail: Record<string, unknown> }>>(h.home, ['runs'])
    expect(runs[0]).toMatchObject({ kind: 'offload', status: 'success', detail: { recovery: true, offloaded: 1 } })
    expect(runs[1]).toMatchObject({ kind: 'offload', status: 'aborted' })
    const text = await cairn(h.home, ['runs'])
    expect(text.stdout).toContain('offload (recovery)')
    const store = h.openStore()
    expect(store.files.live(store.volumes.get('photos')!.id).get('2019/p1.jpg')).toMatchObject({ status: 'offloaded', statusChangedRunId: runs[0]!.id })
    expect(store.unlinkJournal.hasPending()).toBe(false)
    store.close()
  }, 60_000)
})
