import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { VerifyMethod } from '../../src/verify-method.js'
import { vectorFixture, type VectorFixture } from '../helpers/vector.js'

/**
 * The provenance transition table of docs/vector.md, checked against the real store (SQL
 * statement, triggers, history) over the whole space:
 * (row absent/present) × (run <, =, >) × (method NULL/same/different) ×
 * (writer local / same peer / other peer) × (rewind or not), with random instants — and the
 * claim paths that replaced the push snapshot (settleLocal, replaceFromSource): a claim is
 * exactly what its owner computed, lower values included, each lowering with its retraction
 * row of the same run (the only way down besides a running rewind); a claim from a writer
 * that does not own the component changes nothing.
 *
 * Every case runs in a savepoint of one shared store and is rolled back, so the whole space
 * is the same SQL, triggers and history, without opening thousands of stores.
 */

type Owner = 'local' | 'A'
type Writer = 'local' | 'A' | 'B'
type Rel = 'lt' | 'eq' | 'gt'
type MethodDim = 'null' | 'same' | 'different'
type Mode = 'write' | 'rewind' | 'pulled-rewind' | 'claim'

interface Case {
  present: boolean
  owner: Owner
  currentMethod: VerifyMethod | null
  rel: Rel
  method: MethodDim
  writer: Writer
  mode: Mode
  currentInstant: number
  incomingInstant: number
}

const METHODS: VerifyMethod[] = ['sha256-readback', 'peer-sha256', 'presence+size']
const CURRENT_RUN = 10

type Expected =
  | { kind: 'applied', run: number, method: string | null, source: Writer | Owner | null, instant: 'incoming' | 'current' | 'now' | null, retracted?: boolean }
  | { kind: 'unchanged' }
  | { kind: 'refused' }

/** The table, one rule per line, first match wins — transcribed from docs/vector.md. */
function expected (c: Case, incomingMethod: string | null): Expected {
  const run = c.rel === 'lt' ? CURRENT_RUN - 3 : c.rel === 'eq' ? CURRENT_RUN : CURRENT_RUN + 3
  const incomingSource = c.writer === 'local' ? null : c.writer
  const adopt: Expected = { kind: 'applied', run, method: incomingMethod, source: incomingSource, instant: c.writer === 'local' ? 'now' : 'incoming' }
  if (c.mode === 'rewind') {
    if (!c.present || c.rel !== 'lt') return { kind: 'unchanged' }
    return { kind: 'applied', run, method: c.currentMethod, source: c.owner === 'local' ? null : c.owner, instant: 'current' }
  }
  if (c.mode === 'claim') {
    // the owner's computed claim replaces its component, whatever its run; another writer's changes nothing
    if (c.present && (c.owner === 'local' ? null : c.owner) !== incomingSource) return { kind: 'unchanged' }
    const same = c.present && c.rel === 'eq' && incomingMethod === c.currentMethod && (c.incomingInstant > 0 ? c.incomingInstant : null) === c.currentInstant
    if (same) return { kind: 'unchanged' }
    return { ...adopt, instant: 'incoming', retracted: c.present && c.rel === 'lt' }
  }
  if (c.mode === 'pulled-rewind') {
    // a pull with --allow-rewind: an ordinary pulled write, except that a refusal adopts the claim
    const ordinary = expected({ ...c, mode: 'write' }, incomingMethod)
    return ordinary.kind === 'refused' ? adopt : ordinary
  }
  if (!c.present) return adopt
  if (c.rel === 'gt') return adopt
  if (c.rel === 'lt') return c.writer === 'local' ? { kind: 'unchanged' } : { kind: 'refused' }
  if (incomingMethod === null) return { kind: 'unchanged' }
  if (incomingMethod !== c.currentMethod) return adopt
  if (c.writer === 'local') return adopt
  if ((c.owner === 'local' ? null : c.owner) !== c.writer) return { kind: 'unchanged' }
  if (c.incomingInstant <= 0 || c.incomingInstant <= c.currentInstant) return { kind: 'unchanged' }
  return { kind: 'applied', run, method: c.currentMethod, source: c.owner, instant: 'incoming' }
}

function incomingMethodFor (c: Case): VerifyMethod | null {
  if (c.method === 'null') return null
  if (c.method === 'same') return c.currentMethod ?? 'peer-sha256'
  return METHODS.find(m => m !== c.currentMethod) ?? 'peer-sha256'
}

function rowIdOf (f: VectorFixture, who: Owner | Writer | null): number | null {
  if (who === null || who === 'local') return null
  return who === 'A' ? f.a.rowId : f.b.rowId
}

let shared: { f: VectorFixture, start: number } | undefined

/** Runs one case in a savepoint of the shared store, rolled back afterwards. */
function runCase (c: Case): void {
  if (shared === undefined) {
    const f = vectorFixture()
    shared = { f, start: f.clock.nowNs() }
  }
  const { f, start } = shared
  f.clock.set(start)
  f.store.db.exec('SAVEPOINT property_case')
  try {
    runCaseIn(f, c)
  } finally {
    f.store.db.exec('ROLLBACK TO property_case')
    f.store.db.exec('RELEASE property_case')
  }
}

function runCaseIn (f: VectorFixture, c: Case): void {
  // 'same' against a NULL current method is meaningless; normalise it so each case is real.
  const caseNorm: Case = c.method === 'same' && c.currentMethod === null ? { ...c, method: 'null' } : c
  const origin = f.self.rowId
  const dest = 'usb'
  const base = f.clock.nowNs()
  const ownerRow = rowIdOf(f, caseNorm.owner)
  if (caseNorm.present) {
    if (ownerRow === null) {
      // a local component with a chosen method and instant, through the local path
      f.clock.set(caseNorm.currentInstant)
      const setup = f.pushRun()
      f.store.vector.advanceLocal(f.photos, dest, caseNorm.currentMethod ?? 'presence+size', [{ originNodeId: origin, originRunId: CURRENT_RUN }], setup)
      if (caseNorm.currentMethod === null) {
        // methodless strict advance from a peer would change the owner; set NULL via the same-owner path instead
        f.store.db.prepare('UPDATE vector SET verify_method = NULL').run()
      }
      f.store.runs.finish(setup, 'success')
    } else {
      const setup = f.pullRun(ownerRow)
      f.store.vector.upsertPulled({ volumeId: f.photos, destination: dest, originNodeId: origin, originRunId: CURRENT_RUN, verifyMethod: caseNorm.currentMethod, relayedVerifiedAtNs: caseNorm.currentInstant, sourceNodeId: ownerRow, issuedAtNs: caseNorm.currentInstant, assertionId: null, runId: setup })
      f.store.runs.finish(setup, 'success')
    }
  }
  f.clock.set(base + 1e15)
  const now = f.clock.nowNs()
  const before = f.store.vector.get(f.photos, dest, origin)
  const historyBefore = f.historyCount()
  const retractionsBefore = f.store.vector.retractions(f.photos).length
  const incomingMethod = incomingMethodFor(caseNorm)
  const run = caseNorm.rel === 'lt' ? CURRENT_RUN - 3 : caseNorm.rel === 'eq' ? CURRENT_RUN : CURRENT_RUN + 3
  const exp = expected(caseNorm, incomingMethod)

  let outcome: 'applied' | 'unchanged' | 'refused'
  const writerRow = rowIdOf(f, caseNorm.writer)
  let writeRun: number | undefined
  if (caseNorm.mode === 'claim') {
    // settleLocal carries only this node's claims about its own directories and custody, keys
    // no peer's claim can have (peers' directories are stored under `<peer>/<label>`, and a
    // peer's claim naming this node is dropped as third-party): no peer-owned row to meet.
    if (writerRow === null && ownerRow !== null && caseNorm.present) return
    const claim = { destination: dest, originNodeId: origin, originRunId: run, verifyMethod: incomingMethod, verifiedAtNs: caseNorm.incomingInstant > 0 ? caseNorm.incomingInstant : null, exceptions: [] }
    if (writerRow === null) {
      writeRun = f.pushRun()
      const r = f.store.vector.settleLocal(f.photos, [claim], writeRun, 'property')
      outcome = r.unchanged === 1 ? 'unchanged' : 'applied'
    } else {
      writeRun = f.pullRun(writerRow)
      const r = f.store.db.transaction(() => f.store.vector.replaceFromSource(f.photos, writerRow, [claim], null, writeRun as number)).immediate()
      outcome = r.changed === 1 ? 'applied' : 'unchanged'
      if (r.notOwned === 1) expect(r.changed).toBe(0)
    }
  } else if (caseNorm.mode === 'rewind') {
    const rr = f.store.runs.begin({ kind: 'rewind', volumeId: f.photos, destination: dest })
    outcome = f.store.vector.rewind(f.photos, dest, origin, run, rr.id) === undefined ? 'unchanged' : 'applied'
  } else if (caseNorm.mode === 'pulled-rewind') {
    if (writerRow === null) return // a pull always has a peer as writer
    const r = f.store.vector.mergePulled({ volumeId: f.photos, sourceNodeId: writerRow, issuedAtNs: now, assertionId: null, runId: f.pullRun(writerRow, true), allowRewind: true, freshness: undefined, components: [{ destination: dest, originNodeId: origin, originRunId: run, verifyMethod: incomingMethod, relayedVerifiedAtNs: caseNorm.incomingInstant }] })
    outcome = r.rewound === 1 || r.changed === 1 ? 'applied' : 'unchanged'
  } else if (writerRow === null) {
    const r = f.store.vector.advanceLocal(f.photos, dest, incomingMethod ?? 'presence+size', [{ originNodeId: origin, originRunId: run }], f.pushRun('elsewhere'))
    if (incomingMethod === null) return // the local path always carries a method
    outcome = r.applied === 1 ? 'applied' : 'unchanged'
  } else {
    try {
      outcome = f.store.vector.upsertPulled({ volumeId: f.photos, destination: dest, originNodeId: origin, originRunId: run, verifyMethod: incomingMethod, relayedVerifiedAtNs: caseNorm.incomingInstant, sourceNodeId: writerRow, issuedAtNs: now, assertionId: null, runId: f.pullRun(writerRow) }).outcome === 'applied' ? 'applied' : 'unchanged'
    } catch (err) {
      expect(err).toMatchObject({ name: 'VectorRewindError', current: CURRENT_RUN, attempted: run })
      outcome = 'refused'
    }
  }
  const after = f.store.vector.get(f.photos, dest, origin)
  const historyDelta = f.historyCount() - historyBefore
  const label = JSON.stringify(caseNorm)

  // a lower value only ever lands with its retraction row of the same run
  const retractions = f.store.vector.retractions(f.photos).slice(retractionsBefore)
  if (exp.kind === 'applied' && exp.retracted === true) {
    expect(retractions, label).toEqual([expect.objectContaining({ destination: dest, originNodeId: origin, fromRun: CURRENT_RUN, toRun: run, sourceNodeId: rowIdOf(f, caseNorm.writer), runId: writeRun })])
  } else {
    expect(retractions, label).toEqual([])
  }

  if (exp.kind === 'applied') {
    expect(outcome, label).toBe('applied')
    expect(historyDelta, label).toBe(1)
    expect(after, label).toBeDefined()
    expect(after?.originRunId, label).toBe(exp.run)
    expect(after?.verifyMethod, label).toBe(exp.method)
    expect(after?.sourceNodeId, label).toBe(rowIdOf(f, exp.source))
    const incoming = caseNorm.incomingInstant <= 0 ? null : Math.min(caseNorm.incomingInstant, now)
    const instant = exp.instant === 'now' ? now : exp.instant === 'incoming' ? incoming : exp.instant === 'current' ? before?.verifiedAtNs : null
    expect(after?.verifiedAtNs, label).toBe(instant)
    // the history row records exactly what the live row now holds
    const last = f.store.vector.history(f.photos).at(-1)
    expect(last && [last.originRunId, last.verifyMethod, last.sourceNodeId, last.verifiedAtNs], label).toEqual([after?.originRunId, after?.verifyMethod, after?.sourceNodeId, after?.verifiedAtNs])
  } else {
    expect(outcome, label).toBe(exp.kind)
    expect(historyDelta, label).toBe(0)
    expect(after, label).toEqual(before)
  }
  // (verify_method, source) always come from one write: the live pair equals the pair of the
  // last history row that touched this component.
  if (after !== undefined) {
    const last = f.store.vector.history(f.photos).filter(h => h.destination === dest && h.originNodeId === origin).at(-1)
    expect([after.verifyMethod, after.sourceNodeId], label).toEqual([last?.verifyMethod, last?.sourceNodeId])
  }
}

const INSTANTS = [1_000, 5_000]

describe('vector transition table (property)', () => {
  it('holds for every combination of the table\'s dimensions', () => {
    let cases = 0
    for (const present of [false, true]) {
      for (const owner of ['local', 'A'] as const) {
        for (const currentMethod of [...METHODS, null]) {
          for (const rel of ['lt', 'eq', 'gt'] as const) {
            for (const method of ['null', 'same', 'different'] as const) {
              for (const writer of ['local', 'A', 'B'] as const) {
                for (const mode of ['write', 'rewind', 'pulled-rewind', 'claim'] as const) {
                  for (const currentInstant of INSTANTS) {
                    for (const incomingInstant of INSTANTS) {
                      if (!present && (owner !== 'local' || currentMethod !== null)) continue
                      runCase({ present, owner, currentMethod, rel, method, writer, mode, currentInstant, incomingInstant })
                      cases++
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    expect(cases).toBeGreaterThan(1000)
  }, 120_000) // ~3,900 enumerated cases against the real store: a bound on a loop, not a speed target

  it('holds for random instants (fast-check)', () => {
    fc.assert(fc.property(
      fc.record({
        present: fc.boolean(),
        owner: fc.constantFrom<Owner>('local', 'A'),
        currentMethod: fc.constantFrom<VerifyMethod | null>(...METHODS, null),
        rel: fc.constantFrom<Rel>('lt', 'eq', 'gt'),
        method: fc.constantFrom<MethodDim>('null', 'same', 'different'),
        writer: fc.constantFrom<Writer>('local', 'A', 'B'),
        mode: fc.constantFrom<Mode>('write', 'rewind', 'pulled-rewind', 'claim'),
        currentInstant: fc.integer({ min: 1, max: 1e12 }),
        incomingInstant: fc.integer({ min: 0, max: 1e12 })
      }),
      (c) => { runCase(c.present ? c : { ...c, owner: 'local', currentMethod: null }) }
    ), { numRuns: 300 })
  })
})
