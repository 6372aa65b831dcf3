import { describe, expect, it } from 'vitest'
import { ManualClock } from '../src/clock.js'
import { createLogger, formatHumanLine, formatJsonLine, MemorySink } from '../src/logger.js'

describe('logger', () => {
  it('stamps records with the injected clock and the component name, filtered per sink level', () => {
    const clock = new ManualClock(42)
    const all = new MemorySink('debug')
    const warnings = new MemorySink('warn')
    const log = createLogger([all, warnings], clock).forComponent('store')
    log.debug('d')
    log.warn('w', { run: 3 })
    expect(all.records.map(r => [r.level, r.msg])).toEqual([['debug', 'd'], ['warn', 'w']])
    expect(warnings.records).toHaveLength(1)
    expect(warnings.records[0]).toMatchObject({ atNs: 42, component: 'cairn:store', fields: { run: 3 } })
  })

  it('renders a human line and a JSON line, both with the ISO time (and at_ns kept in JSON)', () => {
    const atNs = Date.UTC(2026, 11, 3, 9, 41, 36, 123) * 1e6 + 456_789
    const record = { atNs, level: 'info' as const, component: 'cairn:p2p', msg: 'refused', fields: { peer: 'x y', n: 2 } }
    expect(formatHumanLine(record)).toBe('2026-12-03T09:41:36.123Z info cairn:p2p: refused peer="x y" n=2')
    expect(JSON.parse(formatJsonLine(record))).toEqual({ time: '2026-12-03T09:41:36.123Z', at_ns: atNs, level: 'info', component: 'cairn:p2p', msg: 'refused', peer: 'x y', n: 2 })
  })

  it('survives a sink that throws', () => {
    const log = createLogger([{ minLevel: 'debug', write: () => { throw new Error('disk full') } }], new ManualClock())
    expect(() => { log.error('x') }).not.toThrow()
  })
})
