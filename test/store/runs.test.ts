import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { silentLogger } from '../../src/logger.js'
import { RUN_KINDS, runsConflict, type RunKind } from '../../src/store/run-gates.js'
import type { BeginRunInit } from '../../src/store/runs.js'
import { openStore, type Store } from '../../src/store/store.js'
import { memoryStore, tempDir } from '../helpers/store.js'
import { testKey } from '../helpers/nodes.js'

/** Two peers (row ids returned) without going through enrollment. */
function seedPeers (store: Store): [number, number] {
  const ids = [2, 3].map(n => {
    const key = testKey(n)
    store.db.prepare('INSERT INTO nodes (node_id, name, public_key, created_at_ns, enrolled_at_ns) VALUES (?, ?, ?, 1, 1)')
      .run(key.nodeId, `peer${n}`, key.publicKey)
    return (store.nodes.byNodeId(key.nodeId)?.id) ?? 0
  })
  return [ids[0] ?? 0, ids[1] ?? 0]
}

type Label = 'index' | 'push d1' | 'push d2' | 'receive p1' | 'receive p2' | 'verify d1' | 'verify d2' | 'verify p1' | 'verify p2' |
  'pull p1' | 'pull p2' | 'offload' | 'restore' | 'rewind d1'

const LABELS: Label[] = ['index', 'push d1', 'push d2', 'receive p1', 'receive p2', 'verify d1', 'verify d2', 'verify p1', 'verify p2',
  'pull p1', 'pull p2', 'offload', 'restore', 'rewind d1']

/**
 * The expected exclusion relation on one volume, written out by hand from DESIGN invariant 11
 * and docs/runs.md (not derived from the code under test). Offload excludes everything.
 */
const EXCLUDES: Record<Label, Label[]> = {
  index: ['index', 'push d1', 'push d2', 'receive p1', 'receive p2', 'verify d1', 'verify d2', 'restore'],
  'push d1': ['index', 'push d1', 'receive p1', 'receive p2', 'verify d1', 'verify d2', 'restore'],
  'push d2': ['index', 'push d2', 'receive p1', 'receive p2', 'verify d1', 'verify d2', 'restore'],
  'receive p1': ['index', 'push d1', 'push d2', 'receive p1', 'verify d1', 'verify d2', 'restore'],
  'receive p2': ['index', 'push d1', 'push d2', 'receive p2', 'verify d1', 'verify d2', 'restore'],
  'verify d1': ['index', 'push d1', 'push d2', 'receive p1', 'receive p2', 'verify d1', 'restore'],
  'verify d2': ['index', 'push d1', 'push d2', 'receive p1', 'receive p2', 'verify d2', 'restore'],
  // a verify at a peer: the peer re-reads; this node only accepts what it signs (like a pull)
  'verify p1': ['verify p1'],
  'verify p2': ['verify p2'],
  'pull p1': ['pull p1'],
  'pull p2': ['pull p2'],
  offload: LABELS,
  restore: ['index', 'push d1', 'push d2', 'receive p1', 'receive p2', 'verify d1', 'verify d2', 'restore'],
  'rewind d1': []
}

function expected (a: Label, b: Label): boolean {
  return a === 'offload' || b === 'offload' || EXCLUDES[a].includes(b)
}

function scope (label: Label, volumeId: number, peers: [number, number]): BeginRunInit {
  const [kind, arg] = label.split(' ') as [RunKind, string | undefined]
  return {
    kind,
    volumeId,
    destination: arg?.startsWith('d') === true ? arg : kind === 'verify' && arg !== undefined ? `peer-${arg}` : null,
    peerNodeId: arg === 'p1' ? peers[0] : arg === 'p2' ? peers[1] : null
  }
}

describe('run gates', () => {
  it('the expected relation is symmetric', () => {
    for (const a of LABELS) for (const b of LABELS) expect(expected(a, b), `${a} / ${b}`).toBe(expected(b, a))
  })

  const pairs = LABELS.flatMap(a => LABELS.map(b => [a, b] as const))
  it.each(pairs)('while %s runs on a volume, starting %s is refused exactly when they exclude each other', (a, b) => {
    const { store } = memoryStore()
    const peers = seedPeers(store)
    const vol = store.volumes.ensure('photos', '/data/photos')
    const first = store.runs.begin(scope(a, vol.id, peers))
    const attempt = (): unknown => store.runs.begin(scope(b, vol.id, peers))
    if (expected(a, b)) {
      expect(attempt).toThrow(expect.objectContaining({
        name: 'RunConflictError', kind: b.split(' ')[0], volume: 'photos', blocking: expect.objectContaining({ id: first.id, kind: first.kind })
      }))
      expect(store.runs.list({ volumeId: vol.id })).toHaveLength(1)
    } else {
      expect(attempt()).toMatchObject({ status: 'running' })
    }
    store.close()
  })

  it('never lets runs on different volumes exclude each other', () => {
    const { store } = memoryStore()
    const peers = seedPeers(store)
    const a = store.volumes.ensure('photos', '/data/photos')
    store.runs.begin(scope('offload', a.id, peers))
    LABELS.forEach((label, i) => {
      const other = store.volumes.ensure(`vol${i}`, `/data/vol${i}`)
      expect(store.runs.begin(scope(label, other.id, peers)).status).toBe('running')
    })
  })

  it('lets pushes of one volume to different destinations overlap', () => {
    const { store } = memoryStore()
    const vol = store.volumes.ensure('photos', '/data/photos')
    const r1 = store.runs.begin({ kind: 'push', volumeId: vol.id, destination: 'usb' })
    const r2 = store.runs.begin({ kind: 'push', volumeId: vol.id, destination: 'nas' })
    expect([r1.status, r2.status]).toEqual(['running', 'running'])
    expect(() => store.runs.begin({ kind: 'push', volumeId: vol.id, destination: 'usb' })).toThrow(expect.objectContaining({ name: 'RunConflictError' }))
  })

  it('never gates runs that have no volume', () => {
    const { store } = memoryStore()
    const vol = store.volumes.ensure('photos', '/data/photos')
    store.runs.begin({ kind: 'offload', volumeId: vol.id })
    for (const kind of ['reset', 'revoke', 'enroll'] as const) expect(store.runs.begin({ kind }).status).toBe('running')
  })

  it('names the blocking run\'s kind, id and start time in the refusal', () => {
    const { store, clock } = memoryStore()
    const vol = store.volumes.ensure('photos', '/data/photos')
    const blocker = store.runs.begin({ kind: 'index', volumeId: vol.id })
    clock.advanceNs(5e9)
    let caught: unknown
    try {
      store.runs.begin({ kind: 'push', volumeId: vol.id, destination: 'usb' })
    } catch (err) {
      caught = err
    }
    expect(caught).toMatchObject({ name: 'RunConflictError', blocking: { id: blocker.id, kind: 'index', startedAtNs: blocker.startedAtNs } })
    expect((caught as Error).message).toContain(`index run ${blocker.id} started at`)
  })

  it('covers every run kind in the relation', () => {
    const covered = new Set(LABELS.map(l => l.split(' ')[0]))
    for (const kind of RUN_KINDS) {
      if (['reset', 'revoke', 'enroll'].includes(kind)) continue
      expect(covered.has(kind), kind).toBe(true)
    }
    expect(runsConflict({ kind: 'offload', volumeId: null, destination: null, peerNodeId: null }, { kind: 'index', volumeId: null, destination: null, peerNodeId: null })).toBe(false)
  })
})

describe('finishing runs', () => {
  it('lets the first terminal write win and refuses a second one, changing nothing', () => {
    const { store, clock } = memoryStore()
    const run = store.runs.begin({ kind: 'reset' })
    clock.advanceNs(1000)
    const done = store.runs.finish(run.id, 'success', { fileCount: 3 })
    clock.advanceNs(1000)
    expect(() => store.runs.finish(run.id, 'failed', { error: 'late' })).toThrow(expect.objectContaining({
      name: 'RunAlreadyFinishedError', runId: run.id, current: 'success', attempted: 'failed'
    }))
    expect(store.runs.get(run.id)).toEqual(done)
    expect(store.runs.events(run.id).map(e => e.transition)).toEqual(['begin', 'success'])
  })

  it('refuses a raw UPDATE of a finished run in SQL itself', () => {
    const { store } = memoryStore()
    const run = store.runs.begin({ kind: 'reset' })
    store.runs.finish(run.id, 'failed', { error: 'x' })
    expect(() => store.db.prepare("UPDATE runs SET status = 'success' WHERE id = ?").run(run.id)).toThrow(/immutable/)
    expect(() => store.db.prepare('DELETE FROM runs WHERE id = ?').run(run.id)).toThrow(/never deleted/)
  })

  it('keeps run events insert-only', () => {
    const { store } = memoryStore()
    const run = store.runs.begin({ kind: 'reset' })
    expect(() => store.db.prepare("UPDATE run_events SET transition = 'x'").run()).toThrow(/insert-only/)
    expect(() => store.db.prepare('DELETE FROM run_events').run()).toThrow(/insert-only/)
    expect(store.runs.events(run.id)).toHaveLength(1)
  })

  it('frees the gate once the blocking run finished', () => {
    const { store } = memoryStore()
    const vol = store.volumes.ensure('photos', '/data/photos')
    const a = store.runs.begin({ kind: 'index', volumeId: vol.id })
    store.runs.finish(a.id, 'success')
    expect(store.runs.begin({ kind: 'index', volumeId: vol.id }).status).toBe('running')
  })
})

describe('orphaned runs', () => {
  function twoProcesses (): { a: Store, b: Store, alive: Set<number> } {
    const dir = tempDir()
    const path = join(dir, 'cairn.db')
    const alive = new Set<number>([1001, 1002])
    const open = (pid: number): Store => openStore({ path, clock: new ManualClock(), logger: silentLogger, backupsDir: join(dir, 'b'), pid, isAlive: (p) => alive.has(p) })
    return { a: open(1001), b: open(1002), alive }
  }

  it('reaps running runs whose owner process is gone at startup, with an event each, and leaves live owners alone', () => {
    const { a, b, alive } = twoProcesses()
    const vol = a.volumes.ensure('photos', '/data/photos')
    const dead = a.runs.begin({ kind: 'index', volumeId: vol.id })
    const live = b.runs.begin({ kind: 'pull', volumeId: vol.id })
    alive.delete(1001)
    const reaped = b.runs.reapOrphans()
    expect(reaped.map(r => r.id)).toEqual([dead.id])
    expect(b.runs.get(dead.id)).toMatchObject({ status: 'aborted' })
    expect(b.runs.get(live.id)).toMatchObject({ status: 'running' })
    expect(b.runs.events(dead.id).map(e => e.transition)).toEqual(['begin', 'aborted'])
    a.close()
    b.close()
  })

  it('lets a new run pass a blocker whose owner died, aborting the blocker', () => {
    const { a, b, alive } = twoProcesses()
    const vol = a.volumes.ensure('photos', '/data/photos')
    const stale = a.runs.begin({ kind: 'index', volumeId: vol.id })
    expect(() => b.runs.begin({ kind: 'push', volumeId: vol.id, destination: 'usb' })).toThrow(expect.objectContaining({ name: 'RunConflictError' }))
    alive.delete(1001)
    expect(b.runs.begin({ kind: 'push', volumeId: vol.id, destination: 'usb' }).status).toBe('running')
    expect(b.runs.get(stale.id).status).toBe('aborted')
    a.close()
    b.close()
  })
})
