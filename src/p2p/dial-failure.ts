/**
 * What a failed dial means, in one plain line: libp2p's errors (an UnexpectedEOFError, an
 * EncryptionFailedError, an AggregateError of socket errors, sometimes a bare DOM Event) never
 * reach the operator as they are. Each address's failure is classified; the most telling one
 * explains the whole dial (a refusal says more than a timeout at another address).
 */
import { CairnError } from '../errors.js'

export type DialFailureKind = 'refused-by-peer' | 'wrong-key' | 'not-listening' | 'unreachable' | 'timed-out' | 'denied-here' | 'other'

export interface DialFailure {
  kind: DialFailureKind
  /** One line, no stack, no libp2p internals. */
  reason: string
}

/** Most telling first. */
const RANK: DialFailureKind[] = ['refused-by-peer', 'wrong-key', 'denied-here', 'not-listening', 'unreachable', 'timed-out', 'other']

function codesOf (err: unknown, depth = 0): string[] {
  if (depth > 4 || err === null || typeof err !== 'object') return []
  const e = err as { code?: unknown, cause?: unknown, errors?: unknown }
  const own = typeof e.code === 'string' ? [e.code] : []
  const nested = Array.isArray(e.errors) ? e.errors.flatMap(x => codesOf(x, depth + 1)) : []
  return [...own, ...codesOf(e.cause, depth + 1), ...nested]
}

function textOf (err: unknown, depth = 0): string {
  if (depth > 4) return ''
  if (err instanceof Error) {
    const nested = (err as { errors?: unknown }).errors
    return [err.name, err.message, textOf((err as { cause?: unknown }).cause, depth + 1), ...(Array.isArray(nested) ? nested.map(x => textOf(x, depth + 1)) : [])].join(' ')
  }
  if (typeof err === 'string') return err
  if (err !== null && typeof err === 'object' && 'type' in err) return `event ${String((err as { type: unknown }).type)}`
  return ''
}

export function classifyDialFailure (err: unknown, peer: string, selfName: string | undefined, aborted: boolean): DialFailure {
  const codes = codesOf(err)
  const text = textOf(err)
  const me = selfName ?? 'this node'
  if (aborted || /AbortError|TimeoutError|timed? ?out/i.test(text)) {
    return { kind: 'timed-out', reason: `no answer in time (a slow link, a firewall that drops packets, or the wrong address)` }
  }
  if (/DialDeniedError|blocked by gater/i.test(text)) {
    return { kind: 'denied-here', reason: `this node refuses to dial ${peer}: it is not an enrolled, live peer here` }
  }
  if (/EncryptionFailed|does not match expected remote identity|InvalidCryptoExchange/i.test(text)) {
    return { kind: 'wrong-key', reason: `a different node answers at that address (not ${peer}'s key): ${peer} may have moved, or another node took its address` }
  }
  if (codes.includes('ECONNREFUSED')) return { kind: 'not-listening', reason: 'nothing listens there (is `cairn serve` running on it?)' }
  if (codes.some(c => ['EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN'].includes(c))) {
    return { kind: 'unreachable', reason: `the network cannot reach that address (${codes.find(c => c.startsWith('E')) ?? 'unreachable'})` }
  }
  if (codes.includes('ECONNRESET') || /event close|UnexpectedEOF|stream closed|connection (was )?(closed|reset)|StreamReset|MuxerClosed|EOF/i.test(text)) {
    return { kind: 'refused-by-peer', reason: `${peer} refused this node: it is probably not enrolled there; on ${peer} run \`cairn peer add ${me === 'this node' ? '<this node\'s name>' : me} <this node's invite>\`` }
  }
  const line = err instanceof Error ? err.message.split('\n')[0] ?? '' : ''
  return { kind: 'other', reason: line.length > 0 && line.length <= 200 ? line : 'the connection failed' }
}

export function mostTelling (failures: DialFailure[]): DialFailure | undefined {
  return [...failures].sort((a, b) => RANK.indexOf(a.kind) - RANK.indexOf(b.kind))[0]
}

/** What to do next, for the error's hint. */
export function dialHint (kind: DialFailureKind, peer: string, selfName: string | undefined): string {
  switch (kind) {
    case 'refused-by-peer': return `\`cairn id\` here prints the invite; \`cairn peer pending\` on ${peer} lists this node${selfName === undefined ? '' : ` (${selfName})`} as refused; if ${peer} revoked this node, it stays refused`
    case 'wrong-key': return `get ${peer}'s current address (\`cairn id\` there) and update it with \`cairn peer add ${peer} <invite>\``
    case 'denied-here': return `enroll it with \`cairn peer add ${peer} <invite>\``
    case 'not-listening': return `start \`cairn serve\` on ${peer}, or update its address with \`cairn peer add ${peer} <invite>\` if it moved`
    default: return `is \`cairn serve\` running on ${peer}? update its address with \`cairn peer add ${peer} <invite>\` if it moved`
  }
}

/**
 * An exchange that failed after the stream opened, in one line: cairn's own errors (a peer's
 * status, a frame deadline, a bound) keep their message; libp2p's stream errors become words.
 */
export function describeExchangeFailure (err: unknown, peer: string): string {
  if (err instanceof CairnError) return err.message.split('\n')[0] ?? err.message
  const text = textOf(err)
  if (/AbortError|TimeoutError|timed? ?out/i.test(text)) return `no answer from ${peer} in time`
  if (/UnexpectedEOF|StreamReset|StreamState|MuxerClosed|ConnectionClosed|stream (was )?(closed|reset)|connection (was )?(closed|reset)|ECONNRESET|EPIPE/i.test(text)) {
    return `${peer} closed the connection mid-exchange (it stopped or restarted, or no longer accepts this node)`
  }
  const line = err instanceof Error ? err.message.split('\n')[0] ?? '' : typeof err === 'string' ? err : ''
  return line.length > 0 && line.length <= 300 && !line.includes('[object') ? line : `the exchange with ${peer} failed`
}
