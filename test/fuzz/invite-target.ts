/**
 * Invites (src/p2p/invite.ts): `cairn1.<base64url(JSON)>.<8 hex of SHA-256(payload)>`. The
 * generator builds valid invites with cairn's encoder, bends the JSON document (types, the
 * version, ids, names, address lists at 16 and 17, addresses at 256 and 257 characters, non-TCP
 * or extra multiaddr parts), then the token (checksum, whitespace, base64 junk, parts).
 *
 * The reference follows the comment at the top of invite.ts. Its base64url is switchable like
 * the protobuf messages: lenient (as Node decodes it, ignoring characters outside the alphabet)
 * or canonical (only the alphabet, re-encoding equal). Multiaddr syntax is the multiaddr
 * library's; cairn's rules about which parts are allowed are re-stated here.
 */
import { createHash } from 'node:crypto'
import { multiaddr } from '@multiformats/multiaddr'
import { InvalidInviteError } from '../../src/errors.js'
import { decodeInvite, encodeInvite, type Invite } from '../../src/p2p/invite.js'
import * as corpus from './corpus.js'
import type { FuzzRng } from './prng.js'
import { isNameRef, isNodeIdRef } from './reference/rules.js'
import type { ReferenceOptions, Verdict } from './reference/verdict.js'
import type { Case, SyncTarget } from './targets.js'

/**
 * Per-message switch for invites' canonical base64url: off, because decodeInvite accepts Node's
 * lenient base64 (padding, `+`, `/`, ignored characters), which is harmless: the checksum covers
 * the decoded payload. `--canonical` turns it on to preview a strict decoder.
 */
export const INVITE_CANONICAL = false

const ADDRS = [
  (r: FuzzRng) => `/ip4/${r.int(0, 255)}.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(0, 255)}/tcp/${r.int(0, 65535)}`,
  () => '/ip6/::1/tcp/4001',
  () => '/dns4/nas.local/tcp/4001',
  () => '/dns/example.org/tcp/1',
  () => '/dns6/x/tcp/2',
  (r: FuzzRng) => `/ip4/127.0.0.1/tcp/4001/p2p/${corpus.nodeId(r)}`,
  () => '/ip4/1.2.3.4/udp/1',
  () => '/ip4/1.2.3.4',
  () => '/ip4/1.2.3.4/tcp/1/ws',
  () => '/ip4/1.2.3.4/tcp/1/p2p/QmInvalid',
  () => '/ip4/999.1.1.1/tcp/1',
  () => '/ip4/1.2.3.4/tcp/65536',
  () => '/unix/a',
  () => '/tcp/1/ip4/1.2.3.4',
  () => 'ip4/1.2.3.4/tcp/1',
  () => '',
  () => `/dns4/${'a'.repeat(241)}/tcp/1`,
  () => `/dns4/${'a'.repeat(242)}/tcp/1`,
  () => '/ip4/1.2.3.4/tcp/1/p2p/12D3KooWx/tcp/2'
]

function addr (r: FuzzRng): string {
  return r.chance(0.7) ? (ADDRS[r.int(0, 1)] as (r: FuzzRng) => string)(r) : r.pick(ADDRS)(r)
}

function base64url (b: Uint8Array): string { return Buffer.from(b).toString('base64url') }
function checksum (b: Uint8Array): string { return createHash('sha256').update(b).digest().subarray(0, 4).toString('hex') }

function mutateDoc (r: FuzzRng, doc: Record<string, unknown>): unknown {
  const d: Record<string, unknown> = { ...doc }
  switch (r.int(0, 9)) {
    case 0: d.v = r.pick([0, 2, '1', 1.5, null, true, [1]]); break
    case 1: delete d[r.pick(['v', 'id', 'name', 'addrs'])]; break
    case 2: d.id = r.pick([corpus.randomNodeId(r) + 'x', (d.id as string).slice(1), (d.id as string).toLowerCase(), 42, '', 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N', `1${d.id as string}`]); break
    case 3: d.name = r.pick(['', 'A', 'a'.repeat(64), 'a'.repeat(65), '-a', 'a b', 'é', 7, null]); break
    case 4: d.addrs = r.pick([null, 'x', {}, 5]); break
    case 5: d.addrs = Array.from({ length: r.pick([0, 15, 16, 17]) }, () => addr(r)); break
    case 6: d.addrs = [...(d.addrs as unknown[]), r.pick([5, null, {}, [], 'x'.repeat(257), `/dns4/${'a'.repeat(241)}/tcp/1`])]; break
    case 7: d[r.pick(['extra', '__proto__', 'constructor', 'V'])] = 1; break
    case 8: return r.pick([[], null, 1, 'x', [doc]])
    default: d.addrs = [addr(r), addr(r)]
  }
  return d
}

function mutateToken (r: FuzzRng, token: string): string {
  const [p, body = '', sum = ''] = token.split('.')
  switch (r.int(0, 9)) {
    case 0: return `${p}.${body}.${sum.toUpperCase()}`
    case 1: return `${p}.${body}.${sum.slice(0, 7)}${sum[7] === '0' ? '1' : '0'}`
    case 2: return r.pick([' ', '\n', '\t', '\u00a0', '\ufeff', '\r\n']) + token + r.pick(['', ' ', '\n', '\u2028'])
    case 3: { const at = r.int(0, body.length); return `${p}.${body.slice(0, at)}${r.pick(['=', '+', '/', '!', ' ', '*', '\u00e9'])}${body.slice(at)}.${sum}` }
    case 4: return `${token}.x`
    case 5: return `${r.pick(['CAIRN1', 'cairn2', 'cairn', ''])}.${body}.${sum}`
    case 6: return token.slice(0, r.int(0, token.length - 1))
    case 7: { const at = r.int(0, token.length - 1); return token.slice(0, at) + String.fromCharCode(token.charCodeAt(at) ^ 1) + token.slice(at + 1) }
    case 8: return `${p}.${body}=.${sum}`
    default: return token + ' '.repeat(r.int(0, 5000))
  }
}

function generate (r: FuzzRng): Case {
  const base: Invite = { nodeId: corpus.nodeId(r), name: corpus.name(r), addrs: Array.from({ length: r.small(4) }, () => addr(r)) }
  let text = encodeInvite(base)
  if (r.chance(0.6)) {
    const doc = mutateDoc(r, { v: 1, id: base.nodeId, name: base.name, addrs: base.addrs })
    let json = JSON.stringify(doc) ?? 'null'
    if (r.chance(0.1)) json = r.pick([`${json} `, `\ufeff${json}`, json.replace('"v":1', '"v":1,"v":2'), json.replace('"v":1', '"v":2,"v":1'), `${json}x`])
    let payload: Uint8Array = Buffer.from(json, 'utf8')
    if (r.chance(0.05)) payload = Uint8Array.from([...payload.subarray(0, payload.length - 2), 0xff, ...payload.subarray(payload.length - 2)])
    if (r.chance(0.05)) payload = Buffer.from(JSON.stringify({ v: 1, id: base.nodeId, name: base.name, addrs: Array.from({ length: 16 }, () => `/dns4/${'a'.repeat(r.int(200, 241))}/tcp/1`) }))
    text = `cairn1.${base64url(payload)}.${checksum(payload)}`
  }
  if (r.chance(0.4)) text = mutateToken(r, text)
  return { target: 'invite', bytes: new Uint8Array(0), ctx: { originCount: 0, planEntries: 0, requested: 0 }, text }
}

function strictBase64url (s: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) return null
  const b = Buffer.from(s, 'base64url')
  return b.toString('base64url') === s ? b : null
}

function validAddr (a: unknown): boolean {
  if (typeof a !== 'string' || a.length === 0 || a.length > 256) return false
  let names: string[]
  try {
    names = multiaddr(a).getComponents().map(c => c.name)
  } catch {
    return false
  }
  return ['ip4', 'ip6', 'dns', 'dns4', 'dns6'].includes(names[0] ?? '') && names[1] === 'tcp' && (names.length === 2 || (names.length === 3 && names[2] === 'p2p'))
}

export function inviteVerdict (text: string, opts: ReferenceOptions): Verdict {
  const refuse = (reason: string): Verdict => ({ verdict: 'refuse', reason })
  const token = text.trim()
  if (token.length > 4096) return refuse('longer than 4096 characters')
  const parts = token.split('.')
  if (parts.length !== 3 || parts[0] !== 'cairn1') return refuse('not cairn1.<payload>.<checksum>')
  const payload = opts.canonicalAll || INVITE_CANONICAL ? strictBase64url(parts[1] as string) : Buffer.from(parts[1] as string, 'base64url')
  if (payload === null) return refuse('not canonical base64url')
  if (checksum(payload) !== parts[2]) return refuse('checksum')
  let doc: unknown
  try { doc = JSON.parse(Buffer.from(payload).toString('utf8')) } catch { return refuse('not JSON') }
  if (typeof doc !== 'object' || doc === null) return refuse('not an object')
  const d = doc as Record<string, unknown>
  if (d.v !== 1) return refuse('version')
  if (typeof d.id !== 'string' || !isNodeIdRef(d.id)) return refuse('node id')
  if (typeof d.name !== 'string' || !isNameRef(d.name)) return refuse('name')
  if (!Array.isArray(d.addrs) || d.addrs.length > 16) return refuse('addrs')
  if (!d.addrs.every(validAddr)) return refuse('an address')
  return { verdict: 'accept', value: { nodeId: d.id, name: d.name, addrs: d.addrs } }
}

export const INVITE_TARGET: SyncTarget = {
  name: 'invite',
  kind: 'sync',
  generate,
  decode: (c) => decodeInvite(c.text as string),
  refusals: [InvalidInviteError],
  reference: (c, opts) => inviteVerdict(c.text as string, opts),
  reencode: (v: Invite) => encodeInvite(v),
  comparable: (v: Invite) => v
}
