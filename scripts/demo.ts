/**
 * `npm run demo`: the story of ../shared/DESIGN.md, told by real `cairn` processes on
 * 127.0.0.1 — laptop and nas each running `cairn serve`, and offsite as a directory
 * destination held by nas. Every command is printed with its output; every promise of the
 * story is checked, and the demo exits non-zero if one is not kept. Processes and temp
 * directories are cleaned up on success, on failure and on Ctrl-C.
 */
import '../src/shim.js'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BIN = join(ROOT, 'bin/cairn.js')
const tty = process.stdout.isTTY === true && process.env.NO_COLOR === undefined
const style = (code: string, s: string): string => tty ? `\x1b[${code}m${s}\x1b[0m` : s
const bold = (s: string): string => style('1', s)
const dim = (s: string): string => style('2', s)
const green = (s: string): string => style('32', s)
const red = (s: string): string => style('31', s)

const work = mkdtempSync(join(tmpdir(), 'cairn-demo-'))
const children: ChildProcess[] = []
const checks: Array<{ step: string, what: string, ok: boolean }> = []
let cleaned = false

function cleanup (): void {
  if (cleaned) return
  cleaned = true
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  rmSync(work, { recursive: true, force: true })
}
process.on('SIGINT', () => { process.stdout.write('\ninterrupted: stopping the nodes and removing the demo directory\n'); cleanup(); process.exit(130) })
process.on('SIGTERM', () => { cleanup(); process.exit(143) })
process.on('exit', cleanup)

const home = (name: string): string => join(work, name)

interface Result { code: number | null, stdout: string, stderr: string }

/** Runs one command asynchronously, so Ctrl-C is handled at once, even mid-command. */
async function cairnRaw (name: string, args: string[]): Promise<Result> {
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--home', home(name), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CAIRN_HOME: '', CAIRN_LOG_LEVEL: 'error' } })
    children.push(child)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.on('error', reject)
    child.on('close', (code) => { resolve({ code, stdout, stderr }) })
  })
}

/** Runs a command the audience sees: prints it and its human output. */
async function show (name: string, args: string[]): Promise<Result> {
  process.stdout.write(`\n${bold(`$ cairn --home ${name} ${args.join(' ')}`)}\n`)
  const r = await cairnRaw(name, args)
  const out = (r.stdout + r.stderr).trimEnd()
  if (out !== '') process.stdout.write(out.split('\n').map(l => `  ${l}`).join('\n') + '\n')
  if (r.code !== 0) process.stdout.write(dim(`  (exit ${r.code})`) + '\n')
  return r
}

/** Runs a command quietly for its JSON, to check what the story promises. */
async function json<T> (name: string, args: string[]): Promise<T> {
  const r = await cairnRaw(name, [...args, '--json'])
  if (r.stdout.trim() === '') throw new Error(`cairn ${args.join(' ')} printed no JSON (exit ${r.code}): ${r.stderr.trim()}`)
  return JSON.parse(r.stdout) as T
}

function check (step: string, what: string, ok: boolean): void {
  checks.push({ step, what, ok })
  process.stdout.write(`  ${ok ? green('✓') : red('✗')} ${what}\n`)
}

function heading (text: string): void {
  process.stdout.write(`\n${bold(text)}\n${dim('─'.repeat(Math.min(text.length, 100)))}\n`)
}

async function serve (name: string): Promise<void> {
  const child = spawn(process.execPath, [BIN, '--home', home(name), 'serve'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CAIRN_HOME: '', CAIRN_LOG_LEVEL: 'warn' } })
  children.push(child)
  let out = ''
  let err = ''
  child.stderr?.on('data', (d: Buffer) => { err += d.toString() })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`serve ${name} did not start: ${err}`)) }, 20_000)
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('listening ') && out.endsWith('\n')) { clearTimeout(timer); resolve() }
    })
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`serve ${name} exited ${code}: ${err}`)) })
  })
  process.stdout.write(`  ${name}: ${out.trim().split('\n').join(', ')}\n`)
}

function photo (path: string, seed: number, bytes: number): void {
  const abs = join(work, 'laptop-photos', path)
  mkdirSync(join(abs, '..'), { recursive: true })
  const b = Buffer.alloc(bytes)
  let x = seed
  for (let i = 0; i < bytes; i++) { x = (x * 1103515245 + 12345) >>> 0; b[i] = x >>> 24 }
  b.write('\xff\xd8\xff\xe0', 0, 'latin1') // looks like a JPEG, which it is not
  writeFileSync(abs, b)
  // taken a day ago, as photos copied off a camera keep their times
  const taken = Math.floor(Date.now() / 1000) - 86_400
  utimesSync(abs, taken, taken)
}

interface VectorRow { destination: string, origin: string, origin_run: number, verify_method: string | null, source: string }
interface Group { target: string, cause: string, provenance: string, advice: string, detail: string }

async function main (): Promise<void> {
  const started = Date.now()
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) {
    process.stdout.write('building cairn (npm run build) …\n')
    const b = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' })
    if (b.status !== 0) throw new Error('the build failed')
  }
  heading('cairn demo — a home-lab fleet on 127.0.0.1')
  process.stdout.write(`working directory ${work}\n`)
  for (const d of ['laptop-photos', 'nas-photos', 'offsite']) mkdirSync(join(work, d), { recursive: true })
  for (let i = 1; i <= 4; i++) photo(`2018/summer-${i}.jpg`, 100 + i, 40_000 + i * 1000)
  for (let i = 1; i <= 6; i++) photo(`2019/trip-${i}.jpg`, 200 + i, 50_000 + i * 1000)
  process.stdout.write('generated 10 sample photos under laptop-photos/2018 and 2019\n')

  await show('laptop', ['init', '--name', 'laptop', '--listen', '/ip4/127.0.0.1/tcp/0'])
  await show('nas', ['init', '--name', 'nas', '--listen', '/ip4/127.0.0.1/tcp/0'])
  // both nodes live on 127.0.0.1 and enroll each other with invites: nothing to announce on the
  // LAN; each node's status page on any free loopback port (serve prints the URL)
  const noMdns = (name: string): string => readFileSync(join(home(name), 'cairn.toml'), 'utf8').replace(/^mdns(\s*)= true$/m, 'mdns$1= false').replace(/^http\s*=.*$/m, 'http = "127.0.0.1:0"')
  writeFileSync(join(home('laptop'), 'cairn.toml'), noMdns('laptop') + `
[volumes.photos]
path             = "${join(work, 'laptop-photos')}"
push_to          = ["nas"]
offload_requires = ["nas", "nas/offsite"]
`)
  writeFileSync(join(home('nas'), 'cairn.toml'), noMdns('nas') + `
[volumes.photos]
path    = "${join(work, 'nas-photos')}"
push_to = ["offsite"]

[destinations.offsite]
type = "directory"
path = "${join(work, 'offsite')}"
`)
  process.stdout.write('\nlaptop requires [nas, nas/offsite] before offload; nas pushes its copy to the offsite directory\n')
  process.stdout.write('nas\'s volume directory is still empty, so its operator marks it as the volume (an empty, unmarked directory may be the mount point of a disk that is not mounted, and refuses pushes)\n')
  await show('nas', ['volume', 'init', 'photos'])
  heading('starting both nodes and enrolling them with invites')
  await serve('nas')
  await serve('laptop')
  const nasId = await json<{ invite: string }>('nas', ['id'])
  const laptopId = await json<{ invite: string }>('laptop', ['id'])
  await show('laptop', ['peer', 'add', 'nas', nasId.invite])
  await show('nas', ['peer', 'add', 'laptop', laptopId.invite])

  heading('1. laptop indexes photos and pushes them to nas; nas re-hashes every byte and signs a receipt')
  await show('laptop', ['index', 'photos'])
  await show('laptop', ['push', 'photos', '--to', 'nas'])
  await show('laptop', ['vector', 'photos'])
  const v1 = (await json<VectorRow[]>('laptop', ['vector', 'photos'])).find(r => r.destination === 'nas')
  check('1', 'the receipt from nas: laptop records "nas holds photos from laptop", peer-sha256, asserted by nas', v1?.source === 'nas' && v1.verify_method === 'peer-sha256' && v1.origin === 'laptop')

  heading('2. nas pushes its copy to offsite, reads it back, records it locally verified')
  await show('nas', ['push', 'photos'])
  await show('nas', ['vector', 'photos'])
  const v2 = (await json<VectorRow[]>('nas', ['vector', 'photos'])).find(r => r.destination === 'offsite')
  check('2', 'nas holds local, read-back evidence for offsite', v2?.source === 'local' && v2.verify_method === 'sha256-readback')

  heading('3. laptop pulls nas\'s signed vector: now it also knows what offsite holds, asserted by nas')
  await show('laptop', ['pull', 'nas', 'photos'])
  await show('laptop', ['vector', 'photos'])
  const v3 = (await json<VectorRow[]>('laptop', ['vector', 'photos'])).find(r => r.destination === 'offsite (nas\'s)')
  check('3', 'the pulled offsite evidence is attributed to nas', v3?.source === 'nas' && v3.origin_run === v1?.origin_run)

  heading('4. laptop offloads 2019/: both required targets are covered')
  const trip1 = readFileSync(join(work, 'laptop-photos/2019/trip-1.jpg'))
  await show('laptop', ['offload', 'photos', '2019'])
  const off = await json<{ offloaded: number, selected: number }>('laptop', ['offload', 'photos', '2019', '--dry-run'])
  const gone = [1, 2, 3, 4, 5, 6].every(i => !existsSync(join(work, `laptop-photos/2019/trip-${i}.jpg`)))
  check('4', 'a successful offload: the six 2019 photos are deleted locally, durable on nas and offsite', gone && off.selected === 0)
  process.stdout.write('\n  a photo taken after the last push:\n')
  photo('2019/new.jpg', 999, 45_000)
  await show('laptop', ['index', 'photos'])
  await show('laptop', ['offload', 'photos', '2019/new.jpg'])
  const refused = await json<{ offloaded: number, groups: Group[] }>('laptop', ['offload', 'photos', '2019/new.jpg', '--dry-run'])
  const nasGroup = refused.groups.find(g => g.target === 'nas')
  check('4', `a refusal naming target, cause, provenance and the act: nas ${nasGroup?.cause ?? '?'}, ${nasGroup?.provenance ?? '?'}, "${nasGroup?.advice ?? '?'}"`,
    refused.offloaded === 0 && nasGroup !== undefined && nasGroup.provenance === 'asserted by peer nas' && nasGroup.advice.includes('next push to nas') && refused.groups.some(g => g.target === 'nas/offsite'))

  heading('4b. laptop brings a photo back from nas, and a copy from offsite through nas')
  await show('laptop', ['restore', 'photos', '2019/trip-1.jpg', '--from', 'nas', '--dry-run'])
  check('4b', 'a dry run changes nothing', !existsSync(join(work, 'laptop-photos/2019/trip-1.jpg')))
  await show('laptop', ['restore', 'photos', '2019/trip-1.jpg', '--from', 'nas'])
  const back = join(work, 'laptop-photos/2019/trip-1.jpg')
  check('4b', 'restored from nas byte-identical (every byte re-hashed against the recorded hash)', existsSync(back) && readFileSync(back).equals(trip1))
  await show('laptop', ['restore', 'photos', '2019/trip-2.jpg', '--from', 'nas/offsite', '--to', join(work, 'check')])
  check('4b', 'a copy through nas from offsite lands under --to; the volume is untouched', existsSync(join(work, 'check/2019/trip-2.jpg')) && !existsSync(join(work, 'laptop-photos/2019/trip-2.jpg')))

  heading('4c. nas\'s copy of a photo rots; laptop asks nas to re-read what it holds')
  const rotten = join(work, 'nas-photos/2018/summer-2.jpg')
  const good = readFileSync(join(work, 'laptop-photos/2018/summer-2.jpg'))
  const rotMtime = statSync(rotten).mtime
  writeFileSync(rotten, Buffer.alloc(good.length, 0x5a))
  utimesSync(rotten, rotMtime, rotMtime) // bit rot leaves the size and times as they were (whole seconds here)
  const found = await cairnRaw('laptop', ['verify', 'photos', '--at', 'nas'])
  process.stdout.write(found.stdout + found.stderr)
  const held = await json<{ groups: Group[] }>('laptop', ['offload', 'photos', '2018/summer-2.jpg', '--dry-run'])
  check('4c', 'nas found it, its custody of it came down at once, and the gate refuses it', found.code === 1 && found.stderr.includes('1 changed or damaged') && held.groups.some(g => g.target === 'nas' && g.cause === 'custody-hole'))
  await show('laptop', ['push', 'photos'])
  await show('laptop', ['verify', 'photos', '--at', 'nas'])
  check('4c', 'the next push sent it again: nas holds the good bytes (the rotten ones are kept in its .cairn-history)', readFileSync(rotten).equals(good))

  heading('5. nas is compromised: laptop revokes it')
  await show('laptop', ['peer', 'revoke', 'nas'])
  const impact = await json<{ components_dropped: number, files_losing_gate: Array<{ volume: string, files: number }> }>('laptop', ['peer', 'revoke', 'nas', '--dry-run'])
  check('5', `the revocation impact first: ${impact.components_dropped} components, ${impact.files_losing_gate[0]?.files ?? 0} files losing their gate (2018's four, and trip-1, restored from the bytes nas still holds)`, impact.components_dropped === 2 && (impact.files_losing_gate[0]?.files ?? 0) === 5)
  const historyBefore = (await json<unknown[]>('laptop', ['vector', 'history', 'photos'])).length
  await show('laptop', ['peer', 'revoke', 'nas', '--yes'])
  await show('laptop', ['offload', 'photos', '2018', '--dry-run'])
  const closed = await json<{ durable: number, groups: Group[] }>('laptop', ['offload', 'photos', '2018', '--dry-run'])
  check('5', 'the gate is closed: 2018 photos refused because nas (and so nas/offsite) is revoked',
    closed.durable === 0 && ['nas', 'nas/offsite'].every(t => closed.groups.some(g => g.target === t && g.cause === 'target-revoked')))
  check('5', 'history is untouched', await ((await json<unknown[]>('laptop', ['vector', 'history', 'photos']))).length === historyBefore)
  const pullAgain = await cairnRaw('laptop', ['pull', 'nas'])
  check('5', 'nas\'s key is refused from now on', pullAgain.code === 1 && pullAgain.stderr.includes('revoked'))

  heading('summary')
  await show('laptop', ['status'])
  const failed = checks.filter(c => !c.ok)
  process.stdout.write(`\n${bold('the story')} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`)
  for (const c of checks) process.stdout.write(`  ${c.ok ? green('✓') : red('✗')} step ${c.step}: ${c.what}\n`)
  if (failed.length > 0) {
    process.stdout.write(red(`\n${failed.length} promise(s) of the story not kept\n`))
    process.exitCode = 1
  } else {
    process.stdout.write(green('\nevery promise of the story kept\n'))
  }
  for (const c of children) c.kill('SIGTERM')
  await Promise.all(children.map(async c => await new Promise(resolve => { if (c.exitCode !== null) resolve(null); else c.on('exit', resolve) })))
}

main().catch((err: unknown) => {
  process.stdout.write(red(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}\n`))
  process.exitCode = 1
}).finally(cleanup)
