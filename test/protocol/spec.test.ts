import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import * as limits from '../../src/protocol/limits.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

describe('protocol/README.md', () => {
  it('lists every limit in src/protocol/limits.ts with its value', () => {
    const readme = readFileSync(join(ROOT, 'protocol/README.md'), 'utf8')
    const rows = new Map([...readme.matchAll(/^\| `([A-Z0-9_]+)` \| (\d+) \|/gm)].map(m => [m[1], Number(m[2])]))
    for (const [name, value] of Object.entries(limits)) {
      expect(rows.get(name), `${name} in protocol/README.md`).toBe(value)
    }
    expect([...rows.keys()].sort()).toEqual(Object.keys(limits).sort())
  })
})

describe('generated protocol code', () => {
  it('is current: regenerating from protocol/*.proto changes nothing', () => {
    const out = mkdtempSync(join(tmpdir(), 'cairn-pb-'))
    try {
      execFileSync(process.execPath, [join(ROOT, 'scripts/generate-protocol.mjs'), '--out', out], { stdio: 'pipe' })
      const committed = join(ROOT, 'src/protocol/pb')
      const files = readdirSync(out).sort()
      expect(readdirSync(committed).sort()).toEqual(files)
      for (const f of files) {
        expect(readFileSync(join(out, f), 'utf8'), `${f} is stale: run npm run generate:protocol`).toBe(readFileSync(join(committed, f), 'utf8'))
      }
    } finally {
      rmSync(out, { recursive: true, force: true })
    }
  })

  it('is imported only by src/protocol/wire.ts', () => {
    const offenders: string[] = []
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name)
        if (e.isDirectory()) { if (e.name !== 'pb') walk(p); continue }
        if (!p.endsWith('.ts') || p.endsWith(join('protocol', 'wire.ts'))) continue
        if (/from '[^']*\/pb\/|from '\.\/pb\//.test(readFileSync(p, 'utf8'))) offenders.push(p)
      }
    }
    walk(join(ROOT, 'src'))
    expect(offenders).toEqual([])
  })

  it('@noble/ed25519 is imported only under src/identity/', () => {
    const offenders: string[] = []
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name)
        if (e.isDirectory()) { walk(p); continue }
        if (p.endsWith('.ts') && !p.includes(join('src', 'identity')) && readFileSync(p, 'utf8').includes('@noble/ed25519')) offenders.push(p)
      }
    }
    walk(join(ROOT, 'src'))
    expect(offenders).toEqual([])
  })
})
