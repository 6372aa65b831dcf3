import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { cairn, cairnJson } from '../helpers/cli.js'
import { tempDir } from '../helpers/store.js'
import { configure, enrollBothWays, eventually, initHome, startServe, type ServeProcess } from './fleet.js'

interface Offload { dry_run: boolean, selected: number, offloaded: number, not_durable: number }
interface Status { volumes: Array<{ name: string, schedules: Array<{ kind: string, every_ms: number, next_at_ns: number | null, last_status: string | null, failures: number }> }> }

function tree (dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue
    const rel = join(e.parentPath, e.name).slice(dir.length + 1)
    if (rel.split('/').some(s => s.startsWith('.cairn'))) continue
    out.set(rel, readFileSync(join(dir, rel)))
  }
  return out
}

/** A CLI command that a scheduled run may hold the gate for: retried while it is busy. */
async function whenFree<T> (home: string, args: string[]): Promise<T> {
  return await eventually(async () => {
    const r = await cairn(home, [...args, '--json'])
    if (r.code === 0) return JSON.parse(r.stdout) as T
    if (r.stderr.includes('is still running')) return undefined
    throw new Error(`cairn ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  }, 30_000, 150)
}

describe('a fleet that keeps itself durable', () => {
  const serves: ServeProcess[] = []
  afterAll(() => { for (const s of serves) s.kill() })

  it('two serve processes with schedules keep a volume durable from edits alone; then offload, and restore from nas byte-identical (--to and --dry-run change nothing)', async () => {
    const root = tempDir('cairn-e2e-sched-')
    const laptop = { name: 'laptop', home: await initHome(root, 'laptop') }
    const nas = { name: 'nas', home: await initHome(root, 'nas') }
    const photos = join(root, 'photos')
    mkdirSync(join(photos, '2019'), { recursive: true })
    mkdirSync(join(root, 'nas-photos'))
    for (let i = 1; i <= 4; i++) writeFileSync(join(photos, `2019/p${i}.jpg`), `photo ${i} `.repeat(2000 * i))
    configure(laptop.home, `[volumes.photos]\npath = "${photos}"\npush_to = ["nas"]\noffload_requires = ["nas"]\nindex_every = "1s"\npush_every = "2s"`)
    configure(nas.home, `[volumes.photos]\npath = "${root}/nas-photos"`)
    await cairnJson(nas.home, ['volume', 'init', 'photos'])
    const nasServe = await startServe(nas.home)
    serves.push(nasServe)
    await enrollBothWays(laptop, nas)
    const laptopServe = await startServe(laptop.home)
    serves.push(laptopServe)

    // no index, no push: the schedules alone bring every file to nas with its evidence
    const allDurable = async (n: number): Promise<true | undefined> => {
      const r = await cairn(laptop.home, ['offload', 'photos', '.', '--dry-run', '--json'])
      if (r.code !== 0) return undefined
      const o = JSON.parse(r.stdout) as Offload
      return o.selected === n && o.not_durable === 0 ? true : undefined
    }
    await eventually(async () => await allDurable(4), 30_000, 250)
    expect(tree(join(root, 'nas-photos'))).toEqual(tree(photos))

    // the operator only edits files: a change, a new file, a removal
    writeFileSync(join(photos, '2019/p1.jpg'), 'edited photo 1')
    writeFileSync(join(photos, '2019/p5.jpg'), 'photo 5 '.repeat(500))
    rmSync(join(photos, '2019/p4.jpg'))
    await eventually(async () => {
      const nasTree = tree(join(root, 'nas-photos'))
      if (nasTree.get('2019/p1.jpg')?.toString() !== 'edited photo 1' || !nasTree.has('2019/p5.jpg')) return undefined
      return await allDurable(4)
    }, 30_000, 250)

    // status shows the schedules and when each runs next
    const status = await cairnJson<Status>(laptop.home, ['status']).catch(async () => JSON.parse((await cairn(laptop.home, ['status', '--json'])).stdout) as Status)
    const kinds = status.volumes[0]?.schedules.map(s => s.kind).sort()
    expect(kinds).toEqual(['index', 'push', 'rehash'])
    for (const s of status.volumes[0]?.schedules ?? []) expect(s.next_at_ns).not.toBeNull()
    expect(status.volumes[0]?.schedules.find(s => s.kind === 'push')).toMatchObject({ every_ms: 2000, last_status: 'success', failures: 0 })
    const runs = await cairnJson<Array<{ kind: string, status: string }>>(laptop.home, ['runs', '--limit', '200'])
    expect(runs.filter(r => r.kind === 'index' && r.status === 'success').length).toBeGreaterThanOrEqual(2)
    expect(runs.filter(r => r.kind === 'push' && r.status === 'success').length).toBeGreaterThanOrEqual(2)

    // offload while serve keeps working
    const before = tree(photos)
    const off = await whenFree<Offload>(laptop.home, ['offload', 'photos', '2019'])
    expect(off).toMatchObject({ dry_run: false, selected: 4, offloaded: 4, not_durable: 0 })
    expect(tree(photos).size).toBe(0)

    // --dry-run and --to change nothing in the volume
    const dry = await whenFree<Record<string, unknown>>(laptop.home, ['restore', 'photos', '2019', '--from', 'nas', '--dry-run'])
    expect(dry).toMatchObject({ restored: 0 })
    expect(tree(photos).size).toBe(0)
    const elsewhere = join(root, 'elsewhere')
    const to = await whenFree<{ restored: number, failed: number }>(laptop.home, ['restore', 'photos', '2019', '--from', 'nas', '--to', elsewhere])
    expect(to).toMatchObject({ restored: 4, failed: 0 })
    expect(tree(elsewhere)).toEqual(before)
    expect(tree(photos).size).toBe(0)
    const stillOffloaded = await cairnJson<Array<{ path: string, status: string }>>(laptop.home, ['ls', 'photos', '--offloaded'])
    expect(stillOffloaded.map(f => f.path).sort()).toEqual([...before.keys()].sort())

    // and back into the volume, byte-identical
    const back = await whenFree<{ restored: number, failed: number }>(laptop.home, ['restore', 'photos', '2019', '--from', 'nas'])
    expect(back).toMatchObject({ restored: 4, failed: 0 })
    expect(tree(photos)).toEqual(before)
    expect(existsSync(join(photos, '2019/p4.jpg'))).toBe(false)

    expect((await laptopServe.stop()).code).toBe(0)
    expect((await nasServe.stop()).code).toBe(0)
  }, 120_000)

  it('a file damaged at nas is found by a scheduled peer verify, retracted on both sides, and sent again by the next scheduled push', async () => {
    const root = tempDir('cairn-e2e-verify-')
    const laptop = { name: 'laptop', home: await initHome(root, 'laptop') }
    const nas = { name: 'nas', home: await initHome(root, 'nas') }
    const photos = join(root, 'photos')
    mkdirSync(join(photos, '2019'), { recursive: true })
    mkdirSync(join(root, 'nas-photos'))
    for (let i = 1; i <= 4; i++) {
      writeFileSync(join(photos, `2019/p${i}.jpg`), `photo ${i} `.repeat(2000 * i))
      // whole seconds, so the test can put nas's mtime back exactly, as bit rot leaves it
      utimesSync(join(photos, `2019/p${i}.jpg`), 1_700_000_000, 1_700_000_000)
    }
    configure(laptop.home, `[volumes.photos]\npath = "${photos}"\npush_to = ["nas"]\noffload_requires = ["nas"]\nindex_every = "1s"\npush_every = "2s"\nverify_every = "2s"`)
    configure(nas.home, `[volumes.photos]\npath = "${root}/nas-photos"`)
    await cairnJson(nas.home, ['volume', 'init', 'photos'])
    const nasServe = await startServe(nas.home)
    serves.push(nasServe)
    await enrollBothWays(laptop, nas)
    const laptopServe = await startServe(laptop.home)
    serves.push(laptopServe)
    const allDurable = async (): Promise<true | undefined> => {
      const r = await cairn(laptop.home, ['offload', 'photos', '.', '--dry-run', '--json'])
      if (r.code !== 0) return undefined
      const o = JSON.parse(r.stdout) as Offload
      return o.selected === 4 && o.not_durable === 0 ? true : undefined
    }
    await eventually(allDurable, 30_000, 250)

    // by hand, with the CLI contract's fields
    const byHand = await whenFree<{ run_id: number, volume: string, destination: string, status: string, checked: number, mismatched: number, missing: number }>(laptop.home, ['verify', 'photos', '--at', 'nas'])
    expect(byHand).toMatchObject({ volume: 'photos', destination: 'nas', status: 'success', checked: 4, mismatched: 0, missing: 0 })
    const sampled = await whenFree<{ status: string, checked: number }>(laptop.home, ['verify', 'photos', '--at', 'nas', '--sample', '2'])
    expect(sampled).toMatchObject({ status: 'success', checked: 2 })

    // bit rot at nas: other bytes, the same size and mtime. A push alone never sees it (nas's
    // receive trusts a file whose size and mtime are what it recorded): only a re-read can.
    const rotten = join(root, 'nas-photos/2019/p2.jpg')
    const original = readFileSync(join(photos, '2019/p2.jpg'))
    const rot = Buffer.alloc(original.length, 0x5a)
    writeFileSync(rotten, rot)
    utimesSync(rotten, 1_700_000_000, 1_700_000_000)

    await eventually(async () => {
      if (!existsSync(rotten) || !readFileSync(rotten).equals(original)) return undefined
      return await allDurable()
    }, 45_000, 250)
    // a scheduled verify found it, nas kept the damaged bytes aside, and a scheduled push sent the file again
    const runs = await cairnJson<Array<{ kind: string, status: string, error: string | null }>>(laptop.home, ['runs', '--limit', '500'])
    expect(runs.some(r => r.kind === 'verify' && r.status === 'failed' && (r.error ?? '').includes('0 missing and 1 changed or damaged'))).toBe(true)
    const nasRuns = await cairnJson<Array<{ kind: string, detail: Record<string, unknown> | null }>>(nas.home, ['runs', '--limit', '500'])
    expect(nasRuns.some(r => r.kind === 'index' && r.detail?.requested_by === 'laptop' && r.detail?.damaged === 1)).toBe(true)
    const history = join(root, 'nas-photos/.cairn-history')
    const kept = readdirSync(history, { recursive: true, withFileTypes: true }).filter(e => e.isFile() && e.name === 'p2.jpg').map(e => readFileSync(join(e.parentPath, e.name)))
    expect(kept.some(b => b.equals(rot))).toBe(true)

    expect((await laptopServe.stop()).code).toBe(0)
    expect((await nasServe.stop()).code).toBe(0)
  }, 120_000)
})
