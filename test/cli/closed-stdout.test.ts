import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cairn, cairnClosedStdout, cairnJson } from '../helpers/cli.js'
import { makeHome, type TestHome } from '../helpers/home.js'

/**
 * `cairn status | head -1`, `cairn runs | head -1`, `cairn offload ... --per-file | head -1`:
 * a reader that goes away ends the output, never the command. The process exits with the code
 * it would have had, with nothing on stderr (no EPIPE stack, no "internal error"), and an
 * offload finishes every file it started.
 */

/** Enough output after the first line to overflow a pipe buffer (64 KiB on Linux), so writes hit the closed pipe. */
const FILES = 600
const LONG = 'a'.repeat(180)

let h: TestHome
let root: string

function fileName (i: number): string {
  return `2019/${LONG}-${String(i).padStart(4, '0')}.jpg`
}

function expectQuiet (stderr: string): void {
  expect(stderr).not.toMatch(/EPIPE|internal error|\n\s+at |Error:/)
  expect(stderr).toBe('')
}

// one home for the whole file (tempDir() is removed after each test)
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cairn-epipe-'))
  h = makeHome('laptop', undefined, root)
  mkdirSync(join(root, 'photos/2019'), { recursive: true })
  mkdirSync(join(root, 'usb'))
  for (let i = 0; i < FILES; i++) writeFileSync(join(root, 'photos', fileName(i)), `photo ${i}`)
  h.configure(`[volumes.photos]\npath = "${root}/photos"\npush_to = ["usb"]\noffload_requires = ["usb"]\n[destinations.usb]\ntype = "directory"\npath = "${root}/usb"`)
  await cairnJson(h.home, ['index', 'photos'])
  await cairnJson(h.home, ['push', 'photos'])
  // a long run list: failed runs with a long error each
  const store = h.openStore()
  try {
    for (let i = 0; i < 1000; i++) {
      const run = store.runs.begin({ kind: 'index' })
      store.runs.finish(run.id, 'failed', { error: `synthetic failure ${i} ${'x'.repeat(100)}` })
    }
  } finally {
    store.close()
  }
}, 120_000)

afterAll(() => { rmSync(root, { recursive: true, force: true }) })

describe('a closed stdout', () => {
  it('ends `runs | head -1` quietly with exit 0', async () => {
    const r = await cairnClosedStdout(h.home, ['runs', '--limit', '1000'], 'after-first-line')
    expect(r.firstLine).toMatch(/^ID\s+KIND/)
    expectQuiet(r.stderr)
    expect(r.code).toBe(0)
  })

  it('ends `runs --json | head -1` quietly with exit 0', async () => {
    const r = await cairnClosedStdout(h.home, ['runs', '--limit', '1000', '--json'], 'after-first-line')
    expect(r.firstLine).toBe('[')
    expectQuiet(r.stderr)
    expect(r.code).toBe(0)
  })

  it('lets `offload --per-file | head -1` finish every file and exit 0', async () => {
    const r = await cairnClosedStdout(h.home, ['offload', 'photos', '.', '--per-file'], 'after-first-line', { timeoutMs: 60_000 })
    expect(r.firstLine).toMatch(/^offload photos: success/)
    expectQuiet(r.stderr)
    expect(r.code).toBe(0)
    // the work is done: every file offloaded, its local bytes gone
    const ls = await cairnJson<Array<{ status: string }>>(h.home, ['ls', 'photos'])
    expect(ls).toHaveLength(FILES)
    expect(ls.every(f => f.status === 'offloaded')).toBe(true)
    for (const i of [0, FILES / 2, FILES - 1]) expect(existsSync(join(root, 'photos', fileName(i)))).toBe(false)
  }, 90_000)

  // every other command: stdout closed before its first write; the exit code is the same as
  // with an open stdout
  it.each([
    [['status']],
    [['status', '--json']],
    [['runs']],
    [['id']],
    [['peer', 'list']],
    [['vector', 'photos']],
    [['vector', 'history', 'photos', '--json']],
    [['ls', 'photos']],
    [['offload', 'photos', '.', '--dry-run', '--per-file']],
    [['--help']],
    [['--version']]
  ])('ends `cairn %j` quietly with the exit code it has on an open stdout', async (args) => {
    const open = await cairn(h.home, args)
    const closed = await cairnClosedStdout(h.home, args, 'at-once')
    expectQuiet(closed.stderr)
    expect(closed.code).toBe(open.code)
  })
})
