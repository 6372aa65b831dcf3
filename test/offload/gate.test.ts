import { describe, expect, it } from 'vitest'
import { gateFile, type GateComponent, type GatePolicy, type GateTarget } from '../../src/offload/gate.js'
import { ReportBuilder, adviceOf, provenance } from '../../src/offload/report.js'

const DAY = 86_400e9
const NOW = 1_760_000_000e9
const LAPTOP = 1
const NAS = 2
const names = (id: number): string => ({ [LAPTOP]: 'laptop', [NAS]: 'nas' } as Record<number, string>)[id] ?? `#${id}`

function comp (run: number, over: Partial<GateComponent> = {}): GateComponent {
  return { originRunId: run, verifyMethod: 'sha256-readback', verifiedAtNs: NOW - DAY, sourceNodeId: null, ...over }
}

function target (name: string, over: Partial<GateTarget> = {}): GateTarget {
  return { name, key: name, reach: 'pushed', kind: 'directory', lastPushRunId: 10, components: new Map([[LAPTOP, comp(5)]]), freshness: new Map(), failedVerifyRunId: null, ...over }
}

function policy (targets: GateTarget[], maxAgeDays?: number): GatePolicy {
  return { targets, maxEvidenceAgeNs: maxAgeDays === undefined ? undefined : maxAgeDays * DAY, nowNs: NOW }
}

const file = { originNodeId: LAPTOP, originRunId: 5, statusChangedRunId: 5 }

describe('the offload gate', () => {
  it('passes a file whose every required target holds content-verified, pushed, covering evidence', () => {
    expect(gateFile(policy([target('usb'), target('nas', { kind: 'peer', components: new Map([[LAPTOP, comp(7, { verifyMethod: 'peer-sha256', sourceNodeId: NAS })]]) })]), file)).toEqual([])
  })

  it.each([
    ['no-evidence', target('usb', { components: new Map() })],
    ['evidence-behind', target('usb', { components: new Map([[LAPTOP, comp(4)]]) })],
    ['not-pushed', target('usb', { lastPushRunId: null })],
    ['not-pushed', target('usb', { lastPushRunId: 4 })],
    ['not-content-verified', target('usb', { components: new Map([[LAPTOP, comp(5, { verifyMethod: 'presence+size' })]]) })],
    ['not-content-verified', target('usb', { components: new Map([[LAPTOP, comp(5, { verifyMethod: null })]]) })],
    ['not-content-verified', target('usb', { components: new Map([[LAPTOP, comp(5, { verifyMethod: 'md5-guess' })]]) })],
    ['not-content-verified', target('usb', { failedVerifyRunId: 12 })]
  ] as const)('refuses with %s', (cause, t) => {
    const r = gateFile(policy([t]), file)
    expect(r.map(x => [x.target.name, x.cause])).toEqual([['usb', cause]])
  })

  it('checks age only under a limit: unknown age and stale evidence refuse, fresh passes', () => {
    const unknown = target('usb', { components: new Map([[LAPTOP, comp(5, { verifiedAtNs: null })]]) })
    const stale = target('usb', { components: new Map([[LAPTOP, comp(5, { verifiedAtNs: NOW - 40 * DAY })]]) })
    expect(gateFile(policy([unknown], 30), file).map(r => r.cause)).toEqual(['evidence-age-unknown'])
    expect(gateFile(policy([stale], 30), file).map(r => r.cause)).toEqual(['evidence-stale'])
    expect(gateFile(policy([stale]), file)).toEqual([])
    expect(gateFile(policy([unknown]), file)).toEqual([])
    expect(gateFile(policy([target('usb')], 30), file)).toEqual([])
  })

  it('takes the first failing condition per target, in order: coverage, age, re-acquisition, method', () => {
    const t = target('usb', { lastPushRunId: null, components: new Map([[LAPTOP, comp(4, { verifyMethod: 'presence+size', verifiedAtNs: null })]]) })
    expect(gateFile(policy([t], 30), file).map(r => r.cause)).toEqual(['evidence-behind'])
    const aged = target('usb', { lastPushRunId: null, components: new Map([[LAPTOP, comp(5, { verifyMethod: 'presence+size', verifiedAtNs: null })]]) })
    expect(gateFile(policy([aged], 30), file).map(r => r.cause)).toEqual(['evidence-age-unknown'])
    expect(gateFile(policy([aged]), file).map(r => r.cause)).toEqual(['not-pushed'])
  })

  it('refuses a file re-acquired after the last push to a target this node pushes to', () => {
    expect(gateFile(policy([target('usb', { lastPushRunId: 10 })]), { ...file, statusChangedRunId: 11 }).map(r => r.cause)).toEqual(['not-pushed'])
    expect(gateFile(policy([target('usb', { lastPushRunId: 11 })]), { ...file, statusChangedRunId: 11 })).toEqual([])
  })

  it('refuses a relayed target without pulled push freshness covering the file', () => {
    const relayed = (fresh: Map<number, number>): GateTarget => target('offsite', { reach: 'relayed', lastPushRunId: null, components: new Map([[LAPTOP, comp(5, { sourceNodeId: NAS })]]), freshness: fresh })
    expect(gateFile(policy([relayed(new Map())]), file).map(r => r.cause)).toEqual(['not-pushed'])
    expect(gateFile(policy([relayed(new Map([[LAPTOP, 4]]))]), file).map(r => r.cause)).toEqual(['not-pushed'])
    expect(gateFile(policy([relayed(new Map([[LAPTOP, 5]]))]), file)).toEqual([])
  })

  it('reports one reason per failing target, never more', () => {
    const r = gateFile(policy([target('usb', { components: new Map() }), target('nas', { lastPushRunId: null }), target('ok')]), file)
    expect(r.map(x => [x.target.name, x.cause])).toEqual([['usb', 'no-evidence'], ['nas', 'not-pushed']])
  })
})

describe('the offload report', () => {
  it('words provenance as locally verified, asserted by peer NAME, or none', () => {
    expect(provenance(comp(5), names)).toBe('locally verified')
    expect(provenance(comp(5, { sourceNodeId: NAS }), names)).toBe('asserted by peer nas')
    expect(provenance(undefined, names)).toBe('none')
  })

  it('advises the act that would clear each cause', () => {
    const pushed = target('nas', { kind: 'peer' })
    const dir = target('usb')
    const relayed = target('offsite', { reach: 'relayed' })
    expect(adviceOf(pushed, 'no-evidence')).toBe('the next push to nas covers it')
    expect(adviceOf(relayed, 'no-evidence')).toBe('a pull from the peer that pushes to offsite, after that peer\'s next push there')
    expect(adviceOf(dir, 'evidence-stale')).toBe('a verify pass over usb refreshes it')
    expect(adviceOf(pushed, 'evidence-age-unknown')).toBe('the next push to nas refreshes it')
    expect(adviceOf(dir, 'not-content-verified')).toBe('a verify pass over usb (or a push without --shallow)')
    expect(adviceOf(relayed, 'not-pushed')).toContain('a pull from the peer that pushes to offsite')
  })

  it('groups by (target, cause) without ever collapsing two causes or two targets, and counts requirements', () => {
    const usb = target('usb', { lastPushRunId: 10 })
    const nas = target('nas', { kind: 'peer', components: new Map([[LAPTOP, comp(6, { verifyMethod: 'peer-sha256', sourceNodeId: NAS })]]) })
    const p = policy([usb, nas])
    const b = new ReportBuilder(p, names)
    const files = [
      { path: 'a', f: { originNodeId: LAPTOP, originRunId: 5, statusChangedRunId: 5 } }, // passes both
      { path: 'b', f: { originNodeId: LAPTOP, originRunId: 6, statusChangedRunId: 6 } }, // usb behind, nas ok
      { path: 'c', f: { originNodeId: LAPTOP, originRunId: 5, statusChangedRunId: 12 } }, // not pushed to either
      { path: 'd', f: { originNodeId: NAS, originRunId: 1, statusChangedRunId: 1 } }, // no evidence at either
      { path: 'e', f: { originNodeId: LAPTOP, originRunId: 6, statusChangedRunId: 6 } } // like b
    ]
    for (const { path, f } of files) b.add(path, f, gateFile(p, f))
    const groups = b.finishGroups()
    expect(groups.map(g => [g.target, g.cause, g.files, g.example_path])).toEqual([
      ['usb', 'no-evidence', 1, 'd'],
      ['usb', 'evidence-behind', 2, 'b'],
      ['usb', 'not-pushed', 1, 'c'],
      ['nas', 'no-evidence', 1, 'd'],
      ['nas', 'not-pushed', 1, 'c']
    ])
    expect(groups[1]).toMatchObject({ summary: '2 files: evidence at usb is behind the files\' origin runs', detail: 'usb holds origin laptop through run 5; the file is from run 6', provenance: 'locally verified', advice: 'the next push to usb covers it' })
    expect(groups[3]).toMatchObject({ provenance: 'none', detail: 'no component for origin nas at nas; the file is from nas run 1' })
    expect([...b.requirements.values()]).toEqual([{ target: 'usb', satisfied: 1, blocked: 4 }, { target: 'nas', satisfied: 3, blocked: 2 }])
  })
})
