/**
 * Review of issue 16, priority 4: CLI rough edges — usage errors, the audit trail, one plain
 * line per failure.
 */
import { spawn } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CAIRN_BIN, cairn } from '../helpers/cli.js'
import { makeHome } from '../helpers/home.js'
import { testKey } from '../helpers/nodes.js'

interface LogLine { component: string, msg: string, command?: string, exit_code?: number }

function audit (home: string): LogLine[] {
  const file = join(home, 'logs/cairn.log')
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8').trim().split('\n').filter(l => l !== '').map(l => JSON.parse(l) as LogLine).filter(l => l.component === 'cairn:audit')
}

/** `cairn --home HOME ...args > /dev/full`: every write to stdout fails with ENOSPC. */
async function toFullDisk (home: string, args: string[]): Promise<number | null> {
  const fd = openSync('/dev/full', 'w')
  try {
    return await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CAIRN_BIN, '--home', home, ...args], { env: { ...process.env, CAIRN_HOME: '', NO_COLOR: '1' }, stdio: ['ignore', fd, 'ignore'] })
      child.on('error', reject)
      child.on('close', (code) => { resolve(code) })
    })
  } finally {
    closeSync(fd)
  }
}

describe('CLI rough edges', () => {
  it('exits 2 for a malformed --sample whatever the state (docs/logs.md: usage is checked before anything is opened)', async () => {
    const h = makeHome('laptop')
    const r = await cairn(h.home, ['verify', 'nope', '--at', 'usb', '--sample', 'abc'])
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 2, stderr: expect.stringContaining('--sample') })
  })

  it('records `pull --allow-rewind`, which lowers recorded evidence, in the audit trail as `vector rewind` is', async () => {
    const h = makeHome('laptop')
    // a volume to pull (a refusal before the act starts is not audited: docs/logs.md)
    mkdirSync(join(h.home, '..', 'photos'), { recursive: true })
    h.configure(`[volumes.photos]\npath = ${JSON.stringify(join(h.home, '..', 'photos'))}`)
    const nas = testKey(93)
    expect((await cairn(h.home, ['peer', 'add', 'nas', nas.nodeId, '--addr', '/ip4/127.0.0.1/tcp/9'])).code).toBe(0)
    const before = audit(h.home).length
    await cairn(h.home, ['pull', 'nas', '--allow-rewind'])
    expect(audit(h.home).slice(before).map(l => l.command)).toContain('pull')
  })

  it('writes the exit code the process exits with in the audit outcome (a result that could not be written exits 1)', async () => {
    const h = makeHome('laptop')
    const code = await toFullDisk(h.home, ['peer', 'add', 'nas', testKey(94).nodeId, '--addr', '/ip4/127.0.0.1/tcp/9'])
    expect(code).toBe(1)
    const outcome = audit(h.home).find(l => l.command === 'peer add' && l.exit_code !== undefined)
    expect(outcome?.exit_code).toBe(code)
  })

  it('refuses a malformed node id in one plain line without the multiformats library\'s words', async () => {
    const h = makeHome('laptop')
    const r = await cairn(h.home, ['peer', 'add', 'nas', 'garbage'])
    expect(r.code).toBe(2)
    expect(r.stderr).not.toMatch(/multibase|decoder/i)
  })
})
