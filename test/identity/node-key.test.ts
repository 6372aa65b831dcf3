import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import { generateSeed, nodeKeyFromSeed, readKeyFile, writeKeyFile } from '../../src/identity/node-key.js'
import { isNodeId, parseNodeId } from '../../src/identity/node-id.js'
import { verifySignature } from '../../src/identity/signing.js'
import { tempDir } from '../helpers/store.js'

describe('node key', () => {
  it('writes the key file with mode 0600 and reads back the same identity', () => {
    const path = join(tempDir(), 'node.key')
    const seed = generateSeed()
    writeKeyFile(path, seed)
    expect(readKeyFile(path).nodeId).toBe(nodeKeyFromSeed(seed).nodeId)
  })

  it('refuses a key file with mode 0644', () => {
    const path = join(tempDir(), 'node.key')
    writeKeyFile(path, generateSeed())
    chmodSync(path, 0o644)
    expect(() => readKeyFile(path)).toThrow(expect.objectContaining({ name: 'KeyFilePermissionsError', path, mode: 0o644 }))
  })

  it('refuses a key file readable by the group only', () => {
    const path = join(tempDir(), 'node.key')
    writeKeyFile(path, generateSeed())
    chmodSync(path, 0o640)
    expect(() => readKeyFile(path)).toThrow(expect.objectContaining({ name: 'KeyFilePermissionsError' }))
  })

  it('refuses a key file that is not a cairn key', () => {
    const path = join(tempDir(), 'node.key')
    writeFileSync(path, 'hello\n', { mode: 0o600 })
    expect(() => readKeyFile(path)).toThrow(expect.objectContaining({ name: 'KeyFileInvalidError' }))
  })

  it('never overwrites an existing key file', () => {
    const path = join(tempDir(), 'node.key')
    writeKeyFile(path, generateSeed())
    expect(() => { writeKeyFile(path, generateSeed()) }).toThrow(/EEXIST/)
  })

  it('uses one key for transport identity and signing: the node id is the libp2p peer id', async () => {
    const key = nodeKeyFromSeed(generateSeed())
    expect(peerIdFromPrivateKey(key.libp2pKey).toString()).toBe(key.nodeId)
    const message = new TextEncoder().encode('cairn')
    const signature = key.sign(message)
    expect(verifySignature(key.publicKey, message, signature)).toBe(true)
    // a signature made with the node key verifies with the public key inside the peer id
    expect(await peerIdFromString(key.nodeId).publicKey?.verify(message, signature)).toBe(true)
  })

  it('refuses a signature over different bytes or by another key', () => {
    const a = nodeKeyFromSeed(generateSeed())
    const b = nodeKeyFromSeed(generateSeed())
    const message = new TextEncoder().encode('cairn')
    const sig = a.sign(message)
    expect(verifySignature(a.publicKey, new TextEncoder().encode('cairm'), sig)).toBe(false)
    expect(verifySignature(b.publicKey, message, sig)).toBe(false)
    expect(verifySignature(a.publicKey, message, sig.subarray(1))).toBe(false)
  })
})

describe('node ids', () => {
  it('extracts the ed25519 public key from a node id', () => {
    const key = nodeKeyFromSeed(generateSeed())
    expect(parseNodeId(key.nodeId).publicKey).toEqual(key.publicKey)
  })

  it.each([
    ['empty', ''],
    ['garbage', 'not-a-peer-id'],
    ['a names-like string', 'nas'],
    ['too long', '1'.repeat(200)]
  ])('refuses %s', (_label, value) => {
    expect(() => parseNodeId(value)).toThrow(expect.objectContaining({ name: 'InvalidNodeIdError' }))
    expect(isNodeId(value)).toBe(false)
  })
})
