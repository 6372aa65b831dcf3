import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

describe('npm run demo', () => {
  it('tells the whole story with real processes, keeps every promise, and cleans up after itself', async () => {
    const before = new Set(readdirSync(tmpdir()).filter(n => n.startsWith('cairn-demo-')))
    const { code, out } = await new Promise<{ code: number | null, out: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
      let text = ''
      child.stdout.on('data', (d: Buffer) => { text += d.toString() })
      child.stderr.on('data', (d: Buffer) => { text += d.toString() })
      const timer = setTimeout(() => { child.kill('SIGKILL') }, 110_000)
      child.on('error', reject)
      child.on('exit', (c) => { clearTimeout(timer); resolve({ code: c, out: text }) })
    })
    expect(out).toContain('every promise of the story kept')
    expect(code).toBe(0)
    for (const promise of ['the receipt from nas', 'asserted by nas', 'a successful offload', 'a refusal naming target, cause, provenance', 'the revocation impact first', 'the gate is closed']) {
      expect(out).toContain(promise)
    }
    const after = readdirSync(tmpdir()).filter(n => n.startsWith('cairn-demo-') && !before.has(n))
    expect(after).toEqual([])
  }, 120_000)
})
