/**
 * Scoped decoding (decodeAssertionFiltered with src/evidence/scope.ts's scopeFilter): the
 * bytes are decoded once without a filter and once with a receiver's scope drawn per input,
 * and the two must agree: the same verdict (and, refused, the same error and field: the scope
 * never changes what is checked), and, accepted, the same assertion except that the scoped one
 * keeps exactly the components and tombstones the filter keeps, in order, and counts (and
 * samples, in order) the ones it drops.
 */
import { isDeepStrictEqual } from 'node:util'
import type { VolumeConfig } from '../../src/config/types.js'
import type { NodeId } from '../../src/identity/node-id.js'
import { scopeFilter, type DropKind } from '../../src/evidence/scope.js'
import type { NodeRow } from '../../src/store/nodes.js'
import type { Assertion } from '../../src/protocol/messages.js'
import * as wire from '../../src/protocol/wire.js'
import * as corpus from './corpus.js'
import { InvalidMessageError, OversizeMessageError } from '../../src/errors.js'
import { randomBytes } from './mutate.js'
import type { FuzzRng } from './prng.js'
import * as T from './reference/tables.js'
import { protoVerdict } from './reference/verdict.js'
import { mutateMessage, type SyncTarget } from './targets.js'

/** As openAssertion asks (MAX_FILTERED_SAMPLES), and small enough that some inputs drop more. */
const MAX_SAMPLES = 4

function scopeOf (r: FuzzRng, a: Assertion): T.ScopeSpec {
  const signer = r.chance(0.9) ? a.signer : r.pick(corpus.KEYS).node.nodeId
  const signerName = r.chance(0.9) ? 'sig' : null
  const labels = [...new Set(a.components.flatMap(c => c.label === undefined ? [] : [c.label]))]
  const dirs = [...new Set([...a.components, ...a.tombstones].map(c => c.destination).filter(d => d.startsWith('dir:')))]
  const pushTo = r.chance(0.4) ? ['sig'] : r.chance(0.5) ? ['other'] : []
  const offloadRequires: string[] = []
  if (r.chance(0.3)) offloadRequires.push('sig')
  for (const l of labels) if (r.chance(0.5)) offloadRequires.push(`sig/${l}`)
  if (r.chance(0.2)) offloadRequires.push('sig/unused')
  const owners: Record<string, 'self' | number> = {}
  for (const d of dirs) {
    const o = r.int(0, 5)
    if (o < 3) owners[d] = T.SIGNER_ROW
    else if (o === 3) owners[d] = 'self'
    else if (o === 4) owners[d] = T.SIGNER_ROW + 1
  }
  return { signer, signerName, pushTo, offloadRequires, owners, receipt: r.chance(0.2) }
}

export function filterOf (s: T.ScopeSpec): wire.ComponentFilter<DropKind> {
  const volume: VolumeConfig = { name: 'v', path: '/v', pushTo: s.pushTo, offloadRequires: s.offloadRequires, offloadMaxEvidenceAgeMs: undefined }
  const signer: NodeRow = { id: T.SIGNER_ROW, nodeId: s.signer as NodeId, name: s.signerName, publicKey: new Uint8Array(32), isSelf: false, addrs: [], pinnedAddrs: [], lanAddrs: [], createdAtNs: 0, enrolledAtNs: 0, revokedAtNs: null, lastSeenNs: null }
  return scopeFilter(volume, signer, (key) => s.owners[key], s.receipt)
}

type Outcome = { ok: true, value: wire.FilteredAssertion<DropKind> } | { ok: false, error: unknown }

function attempt (fn: () => wire.FilteredAssertion<DropKind>): Outcome {
  try {
    return { ok: true, value: fn() }
  } catch (error) {
    return { ok: false, error }
  }
}

function describe (e: unknown): string {
  const x = e as { name?: string, field?: string, reason?: string }
  return `${x.name ?? 'Error'} ${x.field ?? ''}: ${x.reason ?? String(e)}`
}

/** null if the scoped decode agrees with the unscoped one; else what differs. */
export function scopedAgrees (bytes: Uint8Array, s: T.ScopeSpec): string | null {
  const filter = filterOf(s)
  const whole = attempt(() => wire.decodeAssertionFiltered(bytes, null, MAX_SAMPLES))
  const scoped = attempt(() => wire.decodeAssertionFiltered(bytes, filter, MAX_SAMPLES))
  if (!whole.ok && !scoped.ok) {
    const a = whole.error as { name?: string, field?: string }
    const b = scoped.error as { name?: string, field?: string }
    return a.name === b.name && a.field === b.field ? null : `refused differently: unscoped ${describe(a)}, scoped ${describe(b)}`
  }
  if (!whole.ok) return `unscoped refuses (${describe(whole.error)}), scoped accepts`
  if (!scoped.ok) return `unscoped accepts, scoped refuses (${describe(scoped.error)})`
  const full = whole.value.assertion
  const got = scoped.value
  const dropped: Array<{ destination: string, label?: string, origin: string, kind: DropKind }> = []
  const kept = full.components.filter(c => {
    const kind = filter({ destination: c.destination, owner: c.owner, label: c.label, tombstone: false })
    if (kind !== null) dropped.push({ destination: c.destination, ...(c.label === undefined ? {} : { label: c.label }), origin: c.originNode, kind })
    return kind === null
  })
  const keptTombstones = full.tombstones.filter(t => filter({ destination: t.destination, owner: undefined, label: undefined, tombstone: true }) === null)
  const expected: Assertion = { ...full, components: kept, tombstones: keptTombstones }
  if (!isDeepStrictEqual(got.assertion, expected)) return 'the scoped assertion is not the unscoped one restricted to what the filter keeps'
  const droppedCount = full.components.length + full.tombstones.length - kept.length - keptTombstones.length
  if (got.filtered.count !== droppedCount) return `the scoped decode counts ${got.filtered.count} dropped, the filter drops ${droppedCount}`
  if (got.filtered.samples.length !== Math.min(droppedCount, MAX_SAMPLES)) return `${got.filtered.samples.length} samples of ${droppedCount} dropped (at most ${MAX_SAMPLES})`
  if (whole.value.filtered.count !== 0) return 'the unscoped decode dropped something'
  return null
}

export const SCOPED_TARGET: SyncTarget = {
  name: 'assertion-scoped',
  kind: 'sync',
  generate: (r) => {
    const a = corpus.assertion(r)
    const scope = scopeOf(r, a)
    const ctx: T.Ctx = { originCount: 0, planEntries: 0, requested: 0, scope }
    const bytes = r.chance(0.05) ? randomBytes(r) : mutateMessage(r, wire.encodeAssertion(a), T.ASSERTION)
    return { target: 'assertion-scoped', bytes, ctx }
  },
  decode: (c) => wire.decodeAssertionFiltered(c.bytes, filterOf(c.ctx.scope as T.ScopeSpec), MAX_SAMPLES),
  refusals: [InvalidMessageError, OversizeMessageError],
  reference: (c, opts) => protoVerdict(T.ASSERTION, c.bytes, c.ctx, opts),
  reencode: (v: wire.FilteredAssertion<DropKind>) => wire.encodeAssertion(v.assertion),
  comparable: (v: wire.FilteredAssertion<DropKind>) => v.assertion,
  consistent: (c) => scopedAgrees(c.bytes, c.ctx.scope as T.ScopeSpec)
}
