import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { rotatingFileSink } from '../../src/cli/log-file.js'
import { tempDir } from '../helpers/store.js'

describe('the serve log file', () => {
  it('rotates at its size limit and keeps a bounded number of older files', () => {
    const dir = tempDir()
    const sink = rotatingFileSink(dir, 1000, 2)
    for (let i = 0; i < 100; i++) sink.write({ atNs: i, level: 'info', component: 'cairn:test', msg: `record ${i}`, fields: { pad: 'x'.repeat(50) } })
    expect(readdirSync(dir).sort()).toEqual(['cairn.log', 'cairn.log.1', 'cairn.log.2'])
    for (const f of readdirSync(dir)) expect(readFileSync(join(dir, f)).length).toBeLessThanOrEqual(1000)
    const last = readFileSync(join(dir, 'cairn.log'), 'utf8').trim().split('\n').at(-1) ?? ''
    expect(JSON.parse(last)).toMatchObject({ msg: 'record 99', level: 'info' })
  })
})
