import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { CAIRN_BIN, cairnJson } from '../helpers/cli.js'
import { tempDir } from '../helpers/store.js'
import { configure, enrollBothWays, eventually, initHome, startServe, type ServeProcess } from './fleet.js'

interface PushRow { run_id: number, status: string, files_sent: number, files_skipped: number }
interface RunRow { id: number, kind: string, status: string, error: string | null }

function placedFiles (dir: string): number {
  if (!existsSync(dir)) return 0
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter(e => e.isFile() && !join(e.parentPath, e.name).includes('.cairn')).length
}

/** Starts `cairn push`, sends `sig` once `ready` holds, and resolves with its exit and output. */
async function interruptPush (home: string, args: string[], ready: () => boolean, sig: NodeJS.Signals): Promise<{ code: number | null, stderr: string, stdout: string }> {
  const child = spawn(process.execPath, [CAIRN_BIN, '--home', home, 'push', 'photos', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CAIRN_HOME: '', NO_COLOR: '1' } })
  let stderr = ''
  let stdout = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  const exited = new Promise<number | null>(resolve => child.on('exit', resolve))
  await eventually(async () => ready() ? true : undefined, 30_000, 20)
  child.kill(sig)
  const killer = setTimeout(() => { child.kill('SIGKILL') }, 20_000)
  const code = await exited
  clearTimeout(killer)
  return { code, stderr, stdout }
}

describe('interrupts', () => {
  const serves: ServeProcess[] = []
  afterAll(() => { for (const s of serves) s.kill() })

  it('Ctrl-C on a directory push says what was done, marks the run aborted at once, removes its staging, and the next push sends only the rest', async () => {
    const root = tempDir('cairn-e2e-int-')
    const home = await initHome(root, 'laptop')
    mkdirSync(join(root, 'photos'))
    mkdirSync(join(root, 'usb'))
    const N = 120
    for (let i = 0; i < N; i++) writeFileSync(join(root, `photos/f${String(i).padStart(3, '0')}.bin`), Buffer.alloc(1024 * 1024, i))
    configure(home, `[volumes.photos]\npath = "${root}/photos"\npush_to = ["usb"]\n[destinations.usb]\ntype = "directory"\npath = "${root}/usb"`)
    await cairnJson(home, ['index', 'photos'])
    const dest = join(root, 'usb/photos')
    const r = await interruptPush(home, ['--json'], () => placedFiles(dest) >= 5, 'SIGINT')
    expect(r.code).toBe(130)
    expect(r.stderr).toMatch(/SIGINT: stopping after the current file/)
    const [report] = JSON.parse(r.stdout) as Array<PushRow & { error: string }>
    expect(report?.status).toBe('aborted')
    expect(report?.error).toMatch(/interrupted \(SIGINT\) after \d+ of 120 file\(s\)/)
    const placed = placedFiles(dest)
    expect(placed).toBeLessThan(N)
    // the run is aborted now, not left running for the next command's reaper
    const runs = await cairnJson<RunRow[]>(home, ['runs', '--limit', '5'])
    expect(runs.find(x => x.id === report?.run_id)).toMatchObject({ kind: 'push', status: 'aborted' })
    expect(existsSync(join(dest, '.cairn-staging', `run-${report?.run_id ?? 0}`))).toBe(false)
    // resume: only what was not placed is sent
    const [again] = await cairnJson<PushRow[]>(home, ['push', 'photos'])
    expect(again).toMatchObject({ status: 'success', files_sent: N - placed, files_skipped: placed })
  }, 90_000)

  it('SIGKILL on a directory push leaves staging that the next push removes', async () => {
    const root = tempDir('cairn-e2e-kill-')
    const home = await initHome(root, 'laptop')
    mkdirSync(join(root, 'photos'))
    mkdirSync(join(root, 'usb'))
    writeFileSync(join(root, 'photos/big.bin'), Buffer.alloc(400 * 1024 * 1024, 1))
    configure(home, `[volumes.photos]\npath = "${root}/photos"\npush_to = ["usb"]\n[destinations.usb]\ntype = "directory"\npath = "${root}/usb"`)
    await cairnJson(home, ['index', 'photos'])
    const staging = join(root, 'usb/photos/.cairn-staging')
    const r = await interruptPush(home, [], () => existsSync(staging) && readdirSync(staging).length > 0, 'SIGKILL')
    expect(r.code).toBe(null)
    const stale = readdirSync(staging)
    expect(stale.length).toBe(1)
    const [again] = await cairnJson<PushRow[]>(home, ['push', 'photos'])
    expect(again?.status).toBe('success')
    expect(existsSync(join(staging, stale[0] ?? 'x'))).toBe(false)
  }, 90_000)

  it('Ctrl-C on a peer push aborts the run at once; nas keeps what it committed and the next push sends only the rest', async () => {
    const root = tempDir('cairn-e2e-intp-')
    const laptop = { name: 'laptop', home: await initHome(root, 'laptop') }
    const nas = { name: 'nas', home: await initHome(root, 'nas') }
    mkdirSync(join(root, 'photos'))
    mkdirSync(join(root, 'nas-photos'))
    const N = 60
    for (let i = 0; i < N; i++) writeFileSync(join(root, `photos/f${String(i).padStart(3, '0')}.bin`), Buffer.alloc(2 * 1024 * 1024, i))
    configure(laptop.home, `[volumes.photos]\npath = "${root}/photos"\npush_to = ["nas"]`)
    configure(nas.home, `[volumes.photos]\npath = "${root}/nas-photos"`)
    await cairnJson(nas.home, ['volume', 'init', 'photos'])
    const nasServe = await startServe(nas.home)
    serves.push(nasServe)
    await enrollBothWays(laptop, nas)
    await cairnJson(laptop.home, ['index', 'photos'])
    const r = await interruptPush(laptop.home, ['--json'], () => placedFiles(join(root, 'nas-photos')) >= 5, 'SIGINT')
    expect(r.code).toBe(130)
    const [report] = JSON.parse(r.stdout) as Array<PushRow & { error: string }>
    expect(report?.status).toBe('aborted')
    const runs = await cairnJson<RunRow[]>(laptop.home, ['runs', '--limit', '5'])
    expect(runs.find(x => x.id === report?.run_id)?.status).toBe('aborted')
    // nas's receive ends too, and its staging goes
    await eventually(async () => {
      const staging = join(root, 'nas-photos/.cairn-staging')
      return !existsSync(staging) || readdirSync(staging).length === 0 ? true : undefined
    }, 15_000)
    const held = placedFiles(join(root, 'nas-photos'))
    const [again] = await cairnJson<PushRow[]>(laptop.home, ['push', 'photos'])
    expect(again?.status).toBe('success')
    expect(again?.files_sent).toBeLessThanOrEqual(N - held + 1)
    expect(again?.files_sent).toBeLessThan(N)
  }, 120_000)
})
