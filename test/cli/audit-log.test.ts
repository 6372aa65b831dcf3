import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cairn, cairnJson } from '../helpers/cli.js'
import { makeHome, type TestHome } from '../helpers/home.js'
import { testKey } from '../helpers/nodes.js'

/**
 * Every command that destroys data or changes trust appends its record to
 * `<home>/logs/cairn.log` (src/cli/audit.ts): one line when it starts, with the names it acts
 * on, and one with the outcome (counts, run id, exit code), each with an ISO `time`. A dry run
 * is not logged. A log that cannot be written fails nothing: one warning on stderr.
 */

interface LogLine { time: string, at_ns: number, level: string, component: string, msg: string, command?: string, exit_code?: number, [k: string]: unknown }

const nas = testKey(91)
const formerOwner = testKey(92)
let root: string
let h: TestHome

function log (): LogLine[] {
  const file = join(h.home, 'logs/cairn.log')
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8').trim().split('\n').filter(l => l !== '').map(l => JSON.parse(l) as LogLine)
}

/** Runs a command and returns the audit records it appended. */
async function audited (args: string[], code = 0): Promise<LogLine[]> {
  const before = log().length
  const r = await cairn(h.home, args)
  expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code })
  return log().slice(before).filter(l => l.component === 'cairn:audit')
}

function expectStartAndOutcome (records: LogLine[], command: string, exitCode = 0): [LogLine, LogLine] {
  expect(records.map(r => r.msg)).toEqual([`${command} started`, exitCode === 0 ? `${command} finished` : expect.stringContaining(command)])
  for (const r of records) {
    expect(r.command).toBe(command)
    expect(r.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    expect(new Date(r.time).getTime()).toBe(Math.floor(r.at_ns / 1e6))
  }
  expect(records[1]?.exit_code).toBe(exitCode)
  return records as [LogLine, LogLine]
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cairn-audit-'))
  h = makeHome('laptop', undefined, root)
  mkdirSync(join(root, 'photos'))
  mkdirSync(join(root, 'usb'))
  mkdirSync(join(root, 'old'))
  writeFileSync(join(root, 'photos/p1.jpg'), 'one')
  writeFileSync(join(root, 'photos/p2.jpg'), 'two')
  // `old` carries a marker of a node that no longer exists (a rebuilt machine): adoptable
  writeFileSync(join(root, 'old/.cairn-destination'), `cairn-destination-v2\n${'5a'.repeat(16)}\nowner ${formerOwner.nodeId}\nlabel old\n`)
  h.configure(`[volumes.photos]\npath = "${root}/photos"\npush_to = ["usb"]\noffload_requires = ["usb"]\n[destinations.usb]\ntype = "directory"\npath = "${root}/usb"\n[destinations.old]\ntype = "directory"\npath = "${root}/old"`)
}, 30_000)

afterAll(() => { rmSync(root, { recursive: true, force: true }) })

describe('the audit trail in logs/cairn.log', () => {
  it('records volume init with the volume and the marker it wrote', async () => {
    const [start, end] = expectStartAndOutcome(await audited(['volume', 'init', 'photos']), 'volume init')
    expect(start).toMatchObject({ volume: 'photos', path: join(root, 'photos') })
    expect(end).toMatchObject({ volume: 'photos', marker_id: expect.any(String), written: true })
  })

  it('records peer add with the name, the node id and the addresses', async () => {
    const [start, end] = expectStartAndOutcome(await audited(['peer', 'add', 'nas', nas.nodeId, '--addr', '/ip4/127.0.0.1/tcp/1']), 'peer add')
    expect(start).toMatchObject({ peer: 'nas', node_id: nas.nodeId, addrs: ['/ip4/127.0.0.1/tcp/1'] })
    // once enrolled, a node id in a record also carries the peer's name
    expect(end).toMatchObject({ peer: 'nas', node_id: nas.nodeId, node_name: 'nas', result: 'enrolled' })
  })

  it('records an offload with its counts and run id, and a dry run not at all', async () => {
    await cairnJson(h.home, ['index', 'photos'])
    await cairnJson(h.home, ['push', 'photos'])
    expect(await audited(['offload', 'photos', '.', '--dry-run'])).toEqual([])
    const [start, end] = expectStartAndOutcome(await audited(['offload', 'photos', 'p1.jpg']), 'offload')
    expect(start).toMatchObject({ volume: 'photos', paths: ['p1.jpg'], argv: expect.arrayContaining(['offload', 'photos', 'p1.jpg']) })
    expect(end).toMatchObject({ volume: 'photos', status: 'success', selected: 1, offloaded: 1, run_id: expect.any(Number) })
    // the offload's own log records go to the file too, beside the audit trail
    expect(log().some(l => l.component === 'cairn:offload' && l.msg === 'offload finished')).toBe(true)
  })

  it('records a restore with where from and what came back, and a dry run not at all', async () => {
    expect(await audited(['restore', 'photos', 'p1.jpg', '--from', 'usb', '--dry-run'])).toEqual([])
    const [start, end] = expectStartAndOutcome(await audited(['restore', 'photos', 'p1.jpg', '--from', 'usb']), 'restore')
    expect(start).toMatchObject({ volume: 'photos', paths: ['p1.jpg'], from: 'usb', to: null })
    expect(end).toMatchObject({ restored: 1, failed: 0, run_id: expect.any(Number) })
  })

  it('records vector rewind with the component and both runs', async () => {
    const [component] = await cairnJson<Array<{ destination: string, origin: string, origin_run: number }>>(h.home, ['vector', 'photos'])
    expect(component?.origin_run).toBeGreaterThan(1)
    const [start, end] = expectStartAndOutcome(await audited(['vector', 'rewind', 'photos', 'usb', 'laptop', '1', '--yes']), 'vector rewind')
    expect(start).toMatchObject({ volume: 'photos', destination: 'usb', origin: 'laptop', from: component?.origin_run, to: 1 })
    expect(end).toMatchObject({ run_id: expect.any(Number), from: component?.origin_run, to: 1 })
  })

  it('records destination reset, and nothing for its dry run or a preview without --yes', async () => {
    expect(await audited(['destination', 'reset', 'usb', '--dry-run'])).toEqual([])
    expect(await audited(['destination', 'reset', 'usb'], 1)).toEqual([])
    const [start, end] = expectStartAndOutcome(await audited(['destination', 'reset', 'usb', '--yes']), 'destination reset')
    expect(start).toMatchObject({ destination: 'usb', marker_id: expect.any(String) })
    expect(end).toMatchObject({ run_id: expect.any(Number), components: expect.any(Number) })
  })

  it('records destination adopt with the former owner', async () => {
    const [start, end] = expectStartAndOutcome(await audited(['destination', 'adopt', 'old', '--yes']), 'destination adopt')
    expect(start).toMatchObject({ destination: 'old', previous_owner_node_id: formerOwner.nodeId, previous_marker_id: '5a'.repeat(16) })
    expect(end).toMatchObject({ run_id: expect.any(Number), marker_id: expect.any(String) })
  })

  it('records peer revoke with the name and what it dropped, and nothing for its dry run', async () => {
    expect(await audited(['peer', 'revoke', 'nas', '--dry-run'])).toEqual([])
    const [start, end] = expectStartAndOutcome(await audited(['peer', 'revoke', 'nas', '--yes']), 'peer revoke')
    expect(start).toMatchObject({ peer: 'nas', node_id: nas.nodeId, node_name: 'nas' })
    expect(end).toMatchObject({ peer: 'nas', run_id: expect.any(Number), components_dropped: expect.any(Number) })
  })

  it('records a command that fails after it started, with the error', async () => {
    // the volume root is gone: the offload starts, then refuses
    rmSync(join(root, 'photos'), { recursive: true })
    const records = await audited(['offload', 'photos', 'p2.jpg'], 1)
    expect(records.map(r => r.msg)).toEqual(['offload started', 'offload failed'])
    expect(records[1]).toMatchObject({ level: 'error', exit_code: 1, error: expect.stringMatching(/Error$/), message: expect.any(String) })
  })

  it('never fails a command when the log cannot be written: one warning on stderr', async () => {
    const other = makeHome('desk', undefined, root)
    // logs/ is a file: neither the directory nor the log file can be created
    rmSync(join(other.home, 'logs'), { recursive: true, force: true })
    writeFileSync(join(other.home, 'logs'), 'not a directory')
    const r = await cairn(other.home, ['peer', 'add', 'nas', nas.nodeId, '--json'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'nas', node_id: nas.nodeId })
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^cairn: warning: cannot write the log .*logs\/cairn\.log \(E[A-Z]+\); the command goes on without its log record$/)])
  })
})
