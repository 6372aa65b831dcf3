import { describe, expect, it } from 'vitest'
import { gateFile, type GateComponent, type GateFile, type GatePlacement, type GatePolicy, type GateTarget } from '../../src/offload/gate.js'
import { ReportBuilder, adviceOf, provenance } from '../../src/offload/report.js'

const DAY = 86_400e9
const NOW = 1_760_000_000e9
const LAPTOP = 1
const NAS = 2
const NAS_ID = '12D3KooWNas'
const names = (id: number): string => ({ [LAPTOP]: 'laptop', [NAS]: 'nas' } as Record<number, string>)[id] ?? `#${id}`

const PATH = '2019/a.jpg'
const CONTENT = 100
const file: GateFile = { path: PATH, contentId: CONTENT, originNodeId: LAPTOP, originRunId: 5, statusChangedRunId: 5 }

function comp (run: number, over: Partial<GateComponent> = {}): GateComponent {
  return { originRunId: run, verifyMethod: 'sha256-readback', verifiedAtNs: NOW - DAY, sourceNodeId: null, exceptions: [], ...over }
}

function placed (over: Partial<GatePlacement> = {}): GatePlacement {
  return { contentId: CONTENT, verifyMethod: 'sha256-readback', verifiedAtNs: NOW - DAY, originNodeId: LAPTOP, originRunId: 5, ...over }
}

const at = (...entries: Array<[string, GatePlacement]>): Map<string, GatePlacement> => new Map(entries)

/** A directory this node writes, holding `file` placed and read back. */
function dir (name: string, over: Partial<GateTarget> = {}): GateTarget {
  return {
    name, key: name, reach: 'pushed', kind: 'directory', custodian: null, revoked: false,
    placements: at([PATH, placed()]), custody: new Map(), components: new Map([[LAPTOP, comp(5)]]), ...over
  }
}

/** NAS's custody of origin LAPTOP through `run`, in its own signature. */
function custody (run: number, over: Partial<GateComponent> = {}): Map<number, GateComponent> {
  return new Map([[LAPTOP, comp(run, { verifyMethod: 'peer-sha256', sourceNodeId: NAS, ...over })]])
}

/** The peer NAS, which this node pushed `file` to and which holds it. */
function peer (over: Partial<GateTarget> = {}): GateTarget {
  const c = custody(7)
  return {
    name: 'nas', key: NAS_ID, reach: 'pushed', kind: 'peer', custodian: NAS, revoked: false,
    placements: at([PATH, placed({ verifyMethod: 'peer-sha256' })]), custody: c, components: c, ...over
  }
}

/** `nas/offsite`: a directory only NAS reaches; NAS holds `file` and claims it at offsite. */
function relayed (over: Partial<GateTarget> = {}): GateTarget {
  return {
    name: 'nas/offsite', key: `${NAS_ID}/offsite`, reach: 'relayed', kind: 'directory', custodian: NAS, revoked: false,
    placements: at([PATH, placed({ verifyMethod: 'peer-sha256' })]), custody: custody(7),
    components: new Map([[LAPTOP, comp(5, { sourceNodeId: NAS })]]), ...over
  }
}

function policy (targets: GateTarget[], maxAgeDays?: number): GatePolicy {
  return { targets, maxEvidenceAgeNs: maxAgeDays === undefined ? undefined : maxAgeDays * DAY, nowNs: NOW }
}

const causes = (t: GateTarget, maxAgeDays?: number, f: GateFile = file): string[] => gateFile(policy([t], maxAgeDays), f).map(r => r.cause)

describe('the offload gate', () => {
  it('passes a file that every required target holds: placed and read back, in the peer\'s custody, and through the relay chain', () => {
    expect(gateFile(policy([dir('usb'), peer(), relayed()], 30), file)).toEqual([])
  })

  describe('a directory this node writes', () => {
    it.each([
      ['not-pushed', 'the path was never placed there', dir('usb', { placements: at() })],
      ['not-pushed', 'another content is placed at the path (the file changed since the push)', dir('usb', { placements: at([PATH, placed({ contentId: CONTENT + 1 })]) })],
      ['not-pushed', 'only another path is placed there', dir('usb', { placements: at(['2019/b.jpg', placed()]) })],
      ['not-content-verified', 'the placement was only checked for presence and size', dir('usb', { placements: at([PATH, placed({ verifyMethod: 'presence+size' })]) })],
      ['not-content-verified', 'the placement has an unknown method', dir('usb', { placements: at([PATH, placed({ verifyMethod: 'md5-guess' })]) })]
    ] as const)('refuses with %s when %s', (cause, _why, t) => {
      expect(gateFile(policy([t]), file).map(x => [x.target.name, x.cause])).toEqual([['usb', cause]])
    })

    it('judges the file by its own placement, never by how far the origin\'s claim reaches', () => {
      // a claim through run 9 does not stand in for a file that was never placed
      expect(causes(dir('usb', { placements: at(), components: new Map([[LAPTOP, comp(9)]]) }))).toEqual(['not-pushed'])
      // and a placed, read-back file passes even while the origin's claim is behind or absent
      expect(causes(dir('usb', { components: new Map([[LAPTOP, comp(4)]]) }))).toEqual([])
      expect(causes(dir('usb', { components: new Map() }))).toEqual([])
    })

    it('checks the placement\'s last real read only under an age limit', () => {
      const stale = dir('usb', { placements: at([PATH, placed({ verifiedAtNs: NOW - 40 * DAY })]) })
      expect(causes(stale, 30)).toEqual(['evidence-stale'])
      expect(causes(stale)).toEqual([])
      expect(causes(dir('usb'), 30)).toEqual([])
    })

    it('reports the placement check before the method, and the method before the age', () => {
      const weakAndStale = dir('usb', { placements: at([PATH, placed({ verifyMethod: 'presence+size', verifiedAtNs: NOW - 40 * DAY })]) })
      expect(causes(weakAndStale, 30)).toEqual(['not-content-verified'])
      expect(causes(dir('usb', { placements: at([PATH, placed({ contentId: 7, verifyMethod: 'presence+size' })]) }), 30)).toEqual(['not-pushed'])
    })
  })

  describe('a peer this node pushes to', () => {
    it.each([
      ['not-pushed', 'this node never placed the path there', peer({ placements: at() })],
      ['not-pushed', 'another content is placed there', peer({ placements: at([PATH, placed({ contentId: CONTENT + 1 })]) })],
      ['not-pushed', 'the placement does not record its origin (a row older than migration 0006)', peer({ placements: at([PATH, placed({ originNodeId: null, originRunId: null })]) })],
      ['no-evidence', 'the peer has no custody of the placed origin', peer({ custody: new Map(), components: new Map() })],
      ['evidence-behind', 'the peer\'s custody stops below the placed run', peer({ custody: custody(4) })],
      ['custody-hole', 'the peer lists the placed version as a hole', peer({ custody: custody(7, { exceptions: [{ path: PATH, run: 5 }] }) })],
      ['not-content-verified', 'the custody is presence-only', peer({ custody: custody(7, { verifyMethod: 'presence+size' }) })],
      ['not-content-verified', 'the custody has no method', peer({ custody: custody(7, { verifyMethod: null }) })]
    ] as const)('refuses with %s when %s', (cause, _why, t) => {
      expect(gateFile(policy([t]), file).map(x => [x.target.name, x.cause])).toEqual([['nas', cause]])
    })

    it('refuses a revoked peer whatever it held, before any other check', () => {
      expect(causes(peer({ revoked: true }))).toEqual(['target-revoked'])
      expect(causes(peer({ revoked: true, placements: at(), custody: new Map() }))).toEqual(['target-revoked'])
    })

    it('is not refused by a hole for another path or another run of the same path', () => {
      expect(causes(peer({ custody: custody(7, { exceptions: [{ path: '2019/b.jpg', run: 5 }, { path: PATH, run: 4 }] }) }))).toEqual([])
    })

    it('judges the peer\'s custody at the version this node placed there, not the file\'s current origin', () => {
      // the file is recorded under another origin now, with the same bytes at the same path
      const reOriginated: GateFile = { ...file, originNodeId: NAS, originRunId: 9 }
      expect(causes(peer(), undefined, reOriginated)).toEqual([])
      // what counts is the placed origin's custody: without it, no evidence
      expect(causes(peer({ custody: new Map([[NAS, comp(9, { verifyMethod: 'peer-sha256', sourceNodeId: NAS })]]) }), undefined, reOriginated)).toEqual(['no-evidence'])
    })

    it('ages the peer\'s custody by its own verification instant, only under a limit', () => {
      expect(causes(peer({ custody: custody(7, { verifiedAtNs: null }) }), 30)).toEqual(['evidence-age-unknown'])
      expect(causes(peer({ custody: custody(7, { verifiedAtNs: NOW - 40 * DAY }) }), 30)).toEqual(['evidence-stale'])
      expect(causes(peer({ custody: custody(7, { verifiedAtNs: null }) }))).toEqual([])
      // the placement's read is not the custody's: an old placement under fresh custody passes
      expect(causes(peer({ placements: at([PATH, placed({ verifyMethod: 'peer-sha256', verifiedAtNs: NOW - 40 * DAY })]) }), 30)).toEqual([])
    })
  })

  describe('a directory only a peer reaches (PEER/NAME)', () => {
    it.each([
      ['relay-not-holding', 'this node never placed the file at the relay', relayed({ placements: at() })],
      ['relay-not-holding', 'the relay holds other content at the path', relayed({ placements: at([PATH, placed({ contentId: CONTENT + 1 })]) })],
      ['relay-not-holding', 'the relay has no custody of the placed origin', relayed({ custody: new Map() })],
      ['relay-not-holding', 'the relay\'s custody stops below the placed run', relayed({ custody: custody(4) })],
      ['relay-not-holding', 'the relay lists the placed version as a hole', relayed({ custody: custody(7, { exceptions: [{ path: PATH, run: 5 }] }) })],
      ['no-evidence', 'the relay makes no claim about the directory', relayed({ components: new Map() })],
      ['evidence-behind', 'the relay\'s directory claim stops below the placed run', relayed({ components: new Map([[LAPTOP, comp(4, { sourceNodeId: NAS })]]) })],
      ['evidence-behind', 'the relay\'s directory claim lists the version as a hole', relayed({ components: new Map([[LAPTOP, comp(5, { sourceNodeId: NAS, exceptions: [{ path: PATH, run: 5 }] })]]) })],
      ['not-content-verified', 'the relay\'s directory claim is presence-only', relayed({ components: new Map([[LAPTOP, comp(5, { sourceNodeId: NAS, verifyMethod: 'presence+size' })]]) })]
    ] as const)('refuses with %s when %s', (cause, _why, t) => {
      expect(gateFile(policy([t]), file).map(x => [x.target.name, x.cause])).toEqual([['nas/offsite', cause]])
    })

    it('never passes on the relay\'s directory claim alone: the relay must hold the file first', () => {
      // a directory claim far ahead, content-verified and fresh, with no custody behind it
      const t = relayed({ custody: new Map(), components: new Map([[LAPTOP, comp(99, { sourceNodeId: NAS })]]) })
      expect(causes(t, 30)).toEqual(['relay-not-holding'])
    })

    it('refuses a revoked relay', () => {
      expect(causes(relayed({ revoked: true }))).toEqual(['target-revoked'])
    })

    it('ages the relay\'s directory claim, only under a limit', () => {
      const stale = relayed({ components: new Map([[LAPTOP, comp(5, { sourceNodeId: NAS, verifiedAtNs: NOW - 40 * DAY })]]) })
      const unknown = relayed({ components: new Map([[LAPTOP, comp(5, { sourceNodeId: NAS, verifiedAtNs: null })]]) })
      expect(causes(stale, 30)).toEqual(['evidence-stale'])
      expect(causes(unknown, 30)).toEqual(['evidence-age-unknown'])
      expect(causes(stale)).toEqual([])
    })

    it('refuses a name that resolves to nothing', () => {
      const unknown: GateTarget = { name: 'offsite', key: 'offsite', reach: 'relayed', kind: 'unknown', custodian: null, revoked: false, placements: at(), custody: new Map(), components: new Map() }
      expect(causes(unknown)).toEqual(['no-evidence'])
    })
  })

  it('reports one reason per failing target, never more', () => {
    const r = gateFile(policy([dir('usb', { placements: at() }), peer({ custody: custody(4, { verifyMethod: 'presence+size', verifiedAtNs: null }) }), dir('ok')], 30), file)
    expect(r.map(x => [x.target.name, x.cause])).toEqual([['usb', 'not-pushed'], ['nas', 'evidence-behind']])
  })
})

describe('the offload report', () => {
  it('words provenance as locally verified, asserted by peer NAME, or none', () => {
    expect(provenance(comp(5), names)).toBe('locally verified')
    expect(provenance(comp(5, { sourceNodeId: NAS }), names)).toBe('asserted by peer nas')
    expect(provenance(undefined, names)).toBe('none')
  })

  it('advises the act that would clear each cause', () => {
    const pushed = peer()
    const usb = dir('usb')
    const relay = relayed({ name: 'offsite' })
    expect(adviceOf(pushed, 'no-evidence')).toBe('the next push to nas covers it')
    expect(adviceOf(relay, 'no-evidence')).toBe('a pull from the peer that pushes to offsite, after that peer\'s next push there')
    expect(adviceOf(usb, 'evidence-stale')).toBe('a verify pass over usb refreshes it')
    expect(adviceOf(pushed, 'evidence-age-unknown')).toBe('the next push to nas refreshes it')
    expect(adviceOf(usb, 'not-content-verified')).toBe('a verify pass over usb (or a push without --shallow)')
    expect(adviceOf(relay, 'not-pushed')).toContain('a pull from the peer that pushes to offsite')
    expect(adviceOf(pushed, 'target-revoked')).toContain('re-enroll nas')
    expect(adviceOf(pushed, 'custody-hole')).toBe('the next push to nas sends it again')
    expect(adviceOf(relayed(), 'relay-not-holding')).toBe('push to nas so it holds this file, then pull from it after its next push to nas/offsite')
  })

  it('groups by (target, cause) without ever collapsing two causes or two targets, and counts requirements', () => {
    const f = (path: string, contentId: number, originNodeId: number, originRunId: number): GateFile => ({ path, contentId, originNodeId, originRunId, statusChangedRunId: originRunId })
    const files = [
      f('a', 1, LAPTOP, 5), // passes both
      f('b', 2, LAPTOP, 6), // usb ok; nas custody behind
      f('c', 3, LAPTOP, 5), // changed since the push to either
      f('d', 4, NAS, 1), // not at usb; nas has no custody of origin nas
      f('e', 5, LAPTOP, 6) // like b
    ]
    const usb = dir('usb', { placements: at(['a', placed({ contentId: 1 })], ['b', placed({ contentId: 2 })], ['c', placed({ contentId: 30 })], ['e', placed({ contentId: 5 })]) })
    const nasPlaced = (x: GateFile): [string, GatePlacement] => [x.path, placed({ contentId: x.contentId, verifyMethod: 'peer-sha256', originNodeId: x.originNodeId, originRunId: x.originRunId })]
    const nas = peer({ placements: at(...files.filter(x => x.path !== 'c').map(nasPlaced)), custody: custody(5) })
    const p = policy([usb, nas])
    const b = new ReportBuilder(p, names)
    for (const x of files) b.add(x.path, x, gateFile(p, x))
    const groups = b.finishGroups()
    expect(groups.map(g => [g.target, g.cause, g.files, g.example_path])).toEqual([
      ['usb', 'not-pushed', 2, 'c'],
      ['nas', 'no-evidence', 1, 'd'],
      ['nas', 'evidence-behind', 2, 'b'],
      ['nas', 'not-pushed', 1, 'c']
    ])
    expect(groups[2]).toMatchObject({ summary: '2 files: evidence at nas is behind the files\' origin runs', detail: 'nas holds origin laptop through run 5; the file is from run 6', provenance: 'asserted by peer nas', advice: 'the next push to nas covers it' })
    expect(groups[1]).toMatchObject({ provenance: 'none', detail: 'no component for origin nas at nas; the file is from nas run 1' })
    expect([...b.requirements.values()]).toEqual([{ target: 'usb', satisfied: 3, blocked: 2 }, { target: 'nas', satisfied: 1, blocked: 4 }])
  })
})
