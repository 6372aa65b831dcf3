import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cairn, cairnJson } from '../helpers/cli.js'
import { httpGet } from '../helpers/http.js'
import { configure, enrollBothWays, eventually, initHome, startServe, type ServeProcess } from './fleet.js'

/**
 * Two real serve processes for the HTTP tests: laptop (volume photos, 7 files indexed in two
 * runs, pushed to nas after the first, requiring nas and the directory usb, which was never
 * pushed to) and nas, enrolled both ways, with laptop pulling nas every second.
 */
export interface StatusFleet {
  root: string
  laptop: ServeProcess
  nas: ServeProcess
  /** laptop's status page URL. */
  url: string
  stop: () => Promise<void>
}

export async function startStatusFleet (prefix: string): Promise<StatusFleet> {
  const root = mkdtempSync(join(tmpdir(), prefix))
  const serves: ServeProcess[] = []
  try {
    const [lh, nh] = await Promise.all([initHome(root, 'laptop'), initHome(root, 'nas')])
    const photos = join(root, 'photos')
    for (const d of ['2019', '2020']) mkdirSync(join(photos, d), { recursive: true })
    for (let i = 0; i < 6; i++) writeFileSync(join(photos, i < 3 ? '2019' : '2020', `p${i}.jpg`), `photo ${i}`.repeat(100))
    mkdirSync(join(root, 'nas-photos'))
    configure(lh, `[volumes.photos]\npath = "${photos}"\npush_to = ["nas", "usb"]\noffload_requires = ["nas", "usb"]\n[destinations.usb]\ntype = "directory"\npath = "${root}/usb"`, '1s')
    configure(nh, `[volumes.photos]\npath = "${root}/nas-photos"`)
    await Promise.all([cairnJson(nh, ['volume', 'init', 'photos']), cairnJson(lh, ['index', 'photos'])])
    // nas serves first, so laptop enrolls it at its real address; laptop's first scheduled pull then succeeds
    const nas = await startServe(nh)
    serves.push(nas)
    await enrollBothWays({ home: lh, name: 'laptop' }, { home: nh, name: 'nas' })
    const laptop = await startServe(lh)
    serves.push(laptop)
    const url = laptop.httpUrl ?? ''
    if (!/^http:\/\/127\.0\.0\.1:\d+\/$/.test(url)) throw new Error(`laptop's serve printed no http URL: ${laptop.stdout()}`)
    // evidence on nas, then a newer index run it does not cover yet (lag 1); usb blocks (not pushed)
    const push = await cairn(lh, ['push', 'photos', '--to', 'nas', '--json'])
    if (push.code !== 0) throw new Error(`push to nas exited ${push.code}: ${push.stderr}`)
    // usb's disk is not mounted (its directory does not exist): the push fails, a problem to act on
    const usb = await cairn(lh, ['push', 'photos', '--to', 'usb', '--json'])
    if (usb.code === 0) throw new Error('the push to an absent usb directory succeeded')
    writeFileSync(join(photos, '2020', 'new.jpg'), 'a new photo')
    await cairnJson(lh, ['index', 'photos'])
    // a scheduled pull of nas has happened since (its connection is open)
    await eventually(async () => {
      const api = JSON.parse((await httpGet(`${url}api/status`)).body) as { peers: Array<{ name: string, last_pull: { status: string } | null }> }
      return api.peers.find(p => p.name === 'nas')?.last_pull?.status === 'success' ? api : undefined
    })
    return {
      root, laptop, nas, url,
      stop: async () => {
        for (const s of serves) await s.stop()
        rmSync(root, { recursive: true, force: true })
      }
    }
  } catch (err) {
    for (const s of serves) s.kill()
    rmSync(root, { recursive: true, force: true })
    throw err
  }
}
