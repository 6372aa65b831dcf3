import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cairn, cairnJson } from '../helpers/cli.js'
import { makeHome, type TestHome } from '../helpers/home.js'
import { testKey } from '../helpers/nodes.js'

/**
 * Failures go to stderr only (CLI.md, "Global"): stdout carries the result and nothing else —
 * with `--json` exactly one JSON document, also when the command fails and its contract
 * defines a report — and the one-line reason is on stderr, prefixed `cairn:`.
 */

const nas = testKey(81)
let root: string
let h: TestHome

/** Every line of stdout that reads like a failure. */
function failureLines (stdout: string): string[] {
  return stdout.split('\n').filter(l => /\b(failed|refused|error)\b/i.test(l) && !/^\s*(ID|offload|push|verify)\b.*\b0 failed\b/.test(l))
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cairn-stderr-'))
  h = makeHome('laptop', undefined, root)
  mkdirSync(join(root, 'photos'))
  mkdirSync(join(root, 'usb'))
  writeFileSync(join(root, 'photos/p1.jpg'), 'one')
  writeFileSync(join(root, 'photos/p2.jpg'), 'two')
  h.configure(`[volumes.photos]\npath = "${root}/photos"\npush_to = ["usb"]\noffload_requires = ["usb"]\n[destinations.usb]\ntype = "directory"\npath = "${root}/usb"`)
  // nas is enrolled at an address where nothing listens: every pull or push to it fails
  const store = h.openStore()
  store.nodes.enrollPeer(nas.nodeId, 'nas', ['/ip4/127.0.0.1/tcp/1'])
  store.close()
  await cairnJson(h.home, ['index', 'photos'])
  await cairnJson(h.home, ['push', 'photos'])
}, 60_000)

afterAll(() => { rmSync(root, { recursive: true, force: true }) })

describe('failures on stderr only', () => {
  it('a failed pull prints nothing on stdout and its reason on stderr', async () => {
    const r = await cairn(h.home, ['pull', 'nas', 'photos'])
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/^cairn: pull photos from nas: failed — /m)
  })

  it('a failed pull with --json prints exactly its report on stdout and the reason on stderr', async () => {
    const r = await cairn(h.home, ['pull', 'nas', 'photos', '--json'])
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ peer: 'nas', volume: 'photos', status: 'failed' })])
    expect(r.stderr).toMatch(/^cairn: pull photos from nas: failed — /m)
  })

  it('a failed push with --json prints exactly its reports on stdout and the reason on stderr', async () => {
    const r = await cairn(h.home, ['push', 'photos', '--to', 'nas', '--json'])
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ destination: 'nas', status: expect.stringMatching(/failed|refused/) })])
    expect(r.stderr).toMatch(/^cairn: push photos → nas: (failed|refused)/m)
  })

  it('an offload that finds a drifted file reports on stdout and says why it exits 1 on stderr', async () => {
    writeFileSync(join(root, 'photos/p2.jpg'), 'two, edited after it was indexed')
    const human = await cairn(h.home, ['offload', 'photos', 'p2.jpg'])
    expect(human.code).toBe(1)
    expect(failureLines(human.stdout)).toEqual([])
    expect(human.stderr).toMatch(/^cairn: offload photos: partial \(run \d+\): 1 file\(s\) drifted since they were indexed \(left in place\)$/m)
    expect(human.stderr).toMatch(/^ {2}drift p2\.jpg: /m)
    const json = await cairn(h.home, ['offload', 'photos', 'p2.jpg', '--json'])
    expect(json.code).toBe(1)
    expect(JSON.parse(json.stdout)).toMatchObject({ volume: 'photos', drift: 1 })
    // one `cairn:` line says why; anything else on stderr is a log record (time level component: ...)
    const lines = json.stderr.trim().split('\n')
    expect(lines.filter(l => l.startsWith('cairn: '))).toEqual([expect.stringMatching(/^cairn: offload photos: partial .*drifted/)])
    expect(lines.filter(l => !l.startsWith('cairn: ')).every(l => /^\d{4}-\d\d-\d\dT\S+Z (warn|error) cairn:/.test(l))).toBe(true)
  })

  it('a verify that finds a file missing exits 1 with the reason on stderr, and with --json one document on stdout', async () => {
    unlinkSync(join(root, 'usb/photos/p1.jpg'))
    const json = await cairn(h.home, ['verify', 'photos', '--at', 'usb', '--json'])
    expect(json.code).toBe(1)
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'failed', missing: 1 })
    expect(json.stderr).toMatch(/^cairn: verify photos at usb: failed/m)
  })

  it('a preview that changes nothing without --yes shows the impact on stdout and why it exits 1 on stderr', async () => {
    const r = await cairn(h.home, ['peer', 'revoke', 'nas', '--json'])
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout)).toMatchObject({ peer: 'nas', dry_run: true })
    expect(r.stderr).toBe('cairn: nothing changed: re-run with --yes to revoke nas (or --dry-run to only show the impact)\n')
  })
})
