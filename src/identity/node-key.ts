/**
 * The node key: one ed25519 seed that is both the libp2p transport identity and the key
 * that signs assertions. It lives in `<home>/node.key`, mode 0600; a key file readable by
 * group or others is refused rather than used.
 */
import { randomBytes } from 'node:crypto'
import { closeSync, fstatSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { privateKeyFromRaw } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { KeyFileInvalidError, KeyFilePermissionsError } from '../errors.js'
import { nodeIdFromPublicKey, type NodeId } from './node-id.js'
import { ED25519_SEED_BYTES, publicKeyFromSeed, seedSigner } from './signing.js'

const KEY_FILE_HEADER = 'cairn-node-key-v1'

export interface NodeKey {
  readonly nodeId: NodeId
  readonly publicKey: Uint8Array
  /** The same identity as a libp2p private key, for the transport. */
  readonly libp2pKey: PrivateKey
  sign: (message: Uint8Array) => Uint8Array
}

export function nodeKeyFromSeed (seed: Uint8Array): NodeKey {
  if (seed.length !== ED25519_SEED_BYTES) throw new RangeError(`an ed25519 seed has ${ED25519_SEED_BYTES} bytes, got ${seed.length}`)
  const secret = Uint8Array.from(seed)
  const publicKey = publicKeyFromSeed(secret)
  const raw = new Uint8Array(64)
  raw.set(secret, 0)
  raw.set(publicKey, 32)
  return {
    nodeId: nodeIdFromPublicKey(publicKey),
    publicKey,
    libp2pKey: privateKeyFromRaw(raw),
    sign: seedSigner(secret)
  }
}

export function generateSeed (): Uint8Array {
  return new Uint8Array(randomBytes(ED25519_SEED_BYTES))
}

/** Writes a new key file with mode 0600; refuses to overwrite an existing file. */
export function writeKeyFile (path: string, seed: Uint8Array): void {
  const text = `${KEY_FILE_HEADER}\n${Buffer.from(seed).toString('hex')}\n`
  writeFileSync(path, text, { mode: 0o600, flag: 'wx' })
}

export function readKeyFile (path: string): NodeKey {
  const fd = openSync(path, 'r')
  let text: string
  try {
    const mode = fstatSync(fd).mode & 0o777
    if ((mode & 0o077) !== 0) throw new KeyFilePermissionsError(path, mode)
    text = readFileSync(fd, 'utf8')
  } finally {
    closeSync(fd)
  }
  const lines = text.split('\n').map(l => l.trim()).filter(l => l.length > 0)
  if (lines[0] !== KEY_FILE_HEADER) throw new KeyFileInvalidError(path, `the first line must be ${KEY_FILE_HEADER}`)
  const hex = lines[1] ?? ''
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new KeyFileInvalidError(path, 'the second line must be 64 lowercase hex digits')
  return nodeKeyFromSeed(Buffer.from(hex, 'hex'))
}
