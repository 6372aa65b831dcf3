/**
 * The field rules of protocol/README.md, re-stated for the fuzzer's reference check without
 * importing the code under test (wire.ts, names.ts, node-id.ts, destinations.ts). Numbers come
 * from src/protocol/limits.ts (the README's limits table is kept in step with it by a test).
 */
import { createHash } from 'node:crypto'

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
const B58_INDEX = new Map([...B58].map((c, i) => [c, i]))

export function base58Decode (s: string): Uint8Array | null {
  let zeros = 0
  while (zeros < s.length && s[zeros] === '1') zeros++
  let n = 0n
  for (const ch of s) {
    const d = B58_INDEX.get(ch)
    if (d === undefined) return null
    n = n * 58n + BigInt(d)
  }
  const body: number[] = []
  while (n > 0n) { body.unshift(Number(n & 0xffn)); n >>= 8n }
  return Uint8Array.from([...new Array<number>(zeros).fill(0), ...body])
}

export function base58Encode (b: Uint8Array): string {
  let zeros = 0
  while (zeros < b.length && b[zeros] === 0) zeros++
  let n = 0n
  for (const x of b) n = (n << 8n) | BigInt(x)
  let s = ''
  while (n > 0n) { s = (B58[Number(n % 58n)] as string) + s; n /= 58n }
  return '1'.repeat(zeros) + s
}

/** identity multihash (0x00, 36 bytes) of the libp2p key protobuf { type: Ed25519 (1), data: 32 bytes } */
const PEER_ID_PREFIX = [0x00, 0x24, 0x08, 0x01, 0x12, 0x20]

/** An ed25519 node id: the base58btc libp2p peer id that embeds the 32-byte key, in its one canonical spelling. */
export function isNodeIdRef (s: string): boolean {
  if (s.length === 0 || s.length > 128) return false
  const b = base58Decode(s)
  if (b === null || b.length !== 38) return false
  for (let i = 0; i < PEER_ID_PREFIX.length; i++) if (b[i] !== PEER_ID_PREFIX[i]) return false
  return base58Encode(b) === s
}

export function nodeIdOfKeyRef (publicKey: Uint8Array): string {
  return base58Encode(Uint8Array.from([...PEER_ID_PREFIX, ...publicKey]))
}

/** The naming rule (volumes, labels): 1-64 of lowercase letters, digits, ".", "_", "-", starting with a letter or digit. */
export function isNameRef (s: string): boolean {
  if (s.length < 1 || s.length > 64) return false
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    const alnum = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39)
    if (!alnum && (i === 0 || (c !== 0x2e && c !== 0x5f && c !== 0x2d))) return false
  }
  return true
}

export function isDirKeyRef (s: string): boolean {
  if (s.length !== 36 || !s.startsWith('dir:')) return false
  for (let i = 4; i < 36; i++) {
    const c = s.charCodeAt(i)
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false
  }
  return true
}

/** A dictionary entry: a node id, a `dir:` key or a label; at most MAX_WIRE_NAME_CHARS (128). */
export function isDictionaryEntryRef (s: string): boolean {
  return s.length >= 1 && s.length <= 128 && (isNameRef(s) || isDirKeyRef(s) || isNodeIdRef(s))
}

const utf8Length = (s: string): number => Buffer.byteLength(s, 'utf8')
/** A lone surrogate cannot be a file name: the filesystem would store U+FFFD, so two paths would collide. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u

/**
 * The plan-path rules: non-empty, at most 4096 UTF-8 bytes, "/"-separated, not absolute, no
 * empty, "." or ".." segment, no NUL or backslash, no segment starting with ".cairn" (any
 * ASCII case), segments at most 255 bytes, well-formed Unicode.
 */
export function planPathProblem (p: string): string | null {
  if (p.length === 0) return 'empty'
  if (LONE_SURROGATE.test(p)) return 'a lone surrogate'
  if (utf8Length(p) > 4096) return 'longer than 4096 bytes'
  if (p.includes('\0')) return 'NUL'
  if (p.includes('\\')) return 'backslash'
  if (p.startsWith('/')) return 'absolute'
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.' || seg === '..') return `a "${seg}" segment`
    if (/^\.cairn/i.test(seg)) return 'a .cairn segment'
    if (utf8Length(seg) > 255) return 'a segment over 255 bytes'
  }
  return null
}

export const MIN_TIME = 1_577_836_800_000_000_000n
export const MAX_TIME = 4_102_444_800_000_000_000n
/**
 * An instant in 2020-01-01 .. 2100-01-01 (the upper end excluded). Instants are compared as the
 * doubles cairn keeps them as (the nearest double to the fixed64: ns beyond 2^53 are not kept).
 */
export const saneTime = (t: bigint): boolean => Number(t) >= Number(MIN_TIME) && Number(t) < Number(MAX_TIME)
/** Before 2100, as a double (a file's mtime may be anything earlier, 0 included). */
export const before2100 = (t: bigint): boolean => Number(t) < Number(MAX_TIME)

export const STATUS_CODES = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9])

export function sha256 (b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(b).digest())
}
