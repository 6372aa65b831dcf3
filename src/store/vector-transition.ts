/**
 * The provenance transition table (DESIGN invariant 4), as one pure function. Every write to
 * the live vector goes through `decideWrite`; docs/vector.md shows the same table.
 *
 * A component's `verify_method` and `source` always come from the same write:
 *
 * | current vs incoming run | incoming method      | writer          | result                                        |
 * |-------------------------|----------------------|-----------------|-----------------------------------------------|
 * | absent                  | any                  | any             | insert incoming                               |
 * | incoming > current      | any (NULL clears)    | any             | adopt incoming: run, method, source, instant  |
 * | incoming < current      | any                  | local advance   | skipped (component-wise max, not an error)    |
 * | incoming < current      | any                  | pulled          | refused: VectorRewindError                    |
 * | incoming < current      | any                  | rewind          | lowered run; see rewind rules below           |
 * | equal                   | NULL                 | any             | unchanged: never degrades, never refreshes    |
 * | equal                   | differs from current | any             | adopt incoming method, source and instant     |
 * | equal                   | same                 | local           | reclaim: source NULL, instant = now           |
 * | equal                   | same                 | pulled from P   | P owns it: refresh instant if newer; else unchanged |
 *
 * Peers never refresh an instant they do not own: a peer re-confirming a local component, or
 * another peer's, changes nothing. (The ancestor let a peer's instant overwrite a local one,
 * which silently turned local freshness into a peer's claim.) An owner's refresh only moves
 * the instant forward.
 *
 * Rewinds: an operator's `vector rewind` lowers the run and keeps method, instant and source
 * (so revoking the peer that asserted it still removes it); a pull with --allow-rewind adopts
 * the asserting peer's lower component whole.
 */
import type { VerifyMethod } from '../verify-method.js'

export interface ComponentState {
  originRunId: number
  verifyMethod: string | null
  verifiedAtNs: number | null
  sourceNodeId: number | null
  assertionId: number | null
}

export type WriteKind =
  /** A push or verify of this node (source NULL, instant = now). */
  | 'local'
  /** An assertion from a peer (pull or receipt). */
  | 'pulled'
  /** The operator's explicit `vector rewind`. */
  | 'rewind'
  /** A pull with --allow-rewind lowering a component to the peer's claim. */
  | 'pulled-rewind'

export interface IncomingWrite {
  kind: WriteKind
  originRunId: number
  verifyMethod: VerifyMethod | string | null
  verifiedAtNs: number | null
  /** NULL for local writes and operator rewinds; the asserting peer otherwise. */
  sourceNodeId: number | null
  assertionId: number | null
}

export type Decision =
  | { outcome: 'applied', next: ComponentState }
  | { outcome: 'unchanged' }
  | { outcome: 'skipped' }
  | { outcome: 'refused', current: number, attempted: number }

function sameState (a: ComponentState, b: ComponentState): boolean {
  return a.originRunId === b.originRunId && a.verifyMethod === b.verifyMethod && a.verifiedAtNs === b.verifiedAtNs &&
    a.sourceNodeId === b.sourceNodeId && a.assertionId === b.assertionId
}

function adopt (w: IncomingWrite): ComponentState {
  return {
    originRunId: w.originRunId,
    verifyMethod: w.verifyMethod,
    verifiedAtNs: w.verifiedAtNs,
    sourceNodeId: w.sourceNodeId,
    assertionId: w.assertionId
  }
}

export function decideWrite (current: ComponentState | undefined, w: IncomingWrite): Decision {
  if (w.kind === 'rewind' || w.kind === 'pulled-rewind') {
    if (current === undefined || w.originRunId >= current.originRunId) return { outcome: 'unchanged' }
    const next: ComponentState = w.kind === 'rewind'
      ? { originRunId: w.originRunId, verifyMethod: current.verifyMethod, verifiedAtNs: current.verifiedAtNs, sourceNodeId: current.sourceNodeId, assertionId: current.assertionId }
      : adopt(w)
    return { outcome: 'applied', next }
  }
  if (current === undefined) return { outcome: 'applied', next: adopt(w) }
  if (w.originRunId > current.originRunId) return { outcome: 'applied', next: adopt(w) }
  if (w.originRunId < current.originRunId) {
    return w.kind === 'local'
      ? { outcome: 'skipped' }
      : { outcome: 'refused', current: current.originRunId, attempted: w.originRunId }
  }
  // equal run
  if (w.verifyMethod === null) return { outcome: 'unchanged' }
  if (w.verifyMethod !== current.verifyMethod) return { outcome: 'applied', next: adopt(w) }
  if (w.kind === 'local') {
    const next = adopt(w)
    return sameState(next, current) ? { outcome: 'unchanged' } : { outcome: 'applied', next }
  }
  // a peer re-confirming the method already held
  if (current.sourceNodeId !== w.sourceNodeId) return { outcome: 'unchanged' }
  if (w.verifiedAtNs === null || (current.verifiedAtNs !== null && w.verifiedAtNs <= current.verifiedAtNs)) return { outcome: 'unchanged' }
  return {
    outcome: 'applied',
    next: { originRunId: current.originRunId, verifyMethod: current.verifyMethod, verifiedAtNs: w.verifiedAtNs, sourceNodeId: current.sourceNodeId, assertionId: w.assertionId }
  }
}
