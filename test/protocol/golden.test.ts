import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { CairnError } from '../../src/errors.js'
import { nodeKeyFromSeed } from '../../src/identity/node-key.js'
import type { NodeId } from '../../src/identity/node-id.js'
import { ASSERTION_PAYLOAD_TYPE, openAssertion, sealAssertion } from '../../src/protocol/envelope.js'
import type { Assertion } from '../../src/protocol/messages.js'
import { decodeEnvelope, encodeAssertion } from '../../src/protocol/wire.js'

/**
 * protocol/vectors/*.json: a fixed seed, an assertion, its payload bytes and its envelope
 * bytes. The code must produce exactly these bytes and accept them; any single flipped byte
 * of an envelope must be refused. `UPDATE_VECTORS=1 npm test -- golden` rewrites the files
 * (only for a deliberate, versioned wire change).
 */
const DIR = fileURLToPath(new URL('../../protocol/vectors/', import.meta.url))

interface Vector {
  description: string
  seed_hex: string
  payload: Omit<Assertion, 'signer'> & { signer: string }
  payload_hex: string
  envelope_hex: string
}

function key (seedHex: string): ReturnType<typeof nodeKeyFromSeed> {
  return nodeKeyFromSeed(Buffer.from(seedHex, 'hex'))
}

function definitions (): Array<Omit<Vector, 'payload_hex' | 'envelope_hex'> & { file: string }> {
  const seed = Buffer.from(Array.from({ length: 32 }, (_, i) => i + 1)).toString('hex')
  const signer = key(seed).nodeId
  const origin = key(Buffer.alloc(32, 0x42).toString('hex')).nodeId
  // directory destinations are their marker keys, with the owner (the signer) and its label beside them
  const offsite = 'dir:0ff5e7e0ff5e7e0ff5e7e0ff5e7e0ff5'
  const usb = 'dir:05b005b005b005b005b005b005b005b0'
  const cold = 'dir:c01dc01dc01dc01dc01dc01dc01dc01d'
  return [
    {
      file: 'assertion-plain.json',
      description: 'a pulled assertion: the signer\'s custody, its claim about a directory it writes (keyed by marker, with owner and label) with one hole (exception), a presence-only directory claim past 2^31, and one tombstone (origin_run 0) withdrawing a directory claim',
      seed_hex: seed,
      payload: {
        signer,
        volume: 'photos',
        epoch: 'e0e0e0e0e0e0e0e0', counter: 1_760_000_000_000_001,
        issuedAtNs: 1_760_000_000_000_000_000,
        receiptFor: null,
        components: [
          { destination: offsite, owner: signer as NodeId, label: 'offsite', originNode: origin as NodeId, originRun: 3, verifyMethod: 'sha256-readback', verifiedAtNs: 1_759_999_000_000_000_000, exceptions: [{ path: '2019/p1.jpg', run: 2 }] },
          { destination: signer, originNode: origin as NodeId, originRun: 3, verifyMethod: 'peer-sha256', verifiedAtNs: 1_759_998_000_000_000_000, exceptions: [] },
          { destination: usb, owner: signer as NodeId, label: 'usb', originNode: signer as NodeId, originRun: 2_147_483_649, verifyMethod: 'presence+size', verifiedAtNs: null, exceptions: [] }
        ],
        tombstones: [{ destination: cold, originNode: origin as NodeId }]
      }
    },
    {
      file: 'assertion-receipt.json',
      description: 'a push receipt: the receiver names itself as destination (its custody) and answers pusher run 17',
      seed_hex: seed,
      payload: {
        signer,
        volume: 'photos',
        epoch: 'e0e0e0e0e0e0e0e0', counter: 1_760_000_000_000_002,
        issuedAtNs: 1_760_000_000_500_000_000,
        receiptFor: 17,
        components: [{ destination: signer, originNode: origin as NodeId, originRun: 3, verifyMethod: 'peer-sha256', verifiedAtNs: 1_760_000_000_400_000_000, exceptions: [] }],
        tombstones: []
      }
    },
    {
      file: 'assertion-empty.json',
      description: 'an assertion with no evidence yet',
      seed_hex: seed,
      payload: { signer, volume: 'music', epoch: 'e0e0e0e0e0e0e0e0', counter: 1, issuedAtNs: 1_600_000_000_000_000_000, receiptFor: null, components: [], tombstones: [] }
    }
  ]
}

function payloadOf (v: Pick<Vector, 'payload'>): Assertion {
  return { ...v.payload, signer: v.payload.signer as NodeId }
}

if (process.env.UPDATE_VECTORS === '1') {
  for (const d of definitions()) {
    const { file, ...rest } = d
    const a = payloadOf(rest)
    const vector: Vector = { ...rest, payload_hex: Buffer.from(encodeAssertion(a)).toString('hex'), envelope_hex: Buffer.from(sealAssertion(key(d.seed_hex), a)).toString('hex') }
    writeFileSync(join(DIR, file), JSON.stringify(vector, null, 2) + '\n')
  }
}

const files = readdirSync(DIR).filter(f => f.endsWith('.json')).sort()

describe('golden vectors', () => {
  it('exist for every definition', () => {
    expect(files).toEqual(definitions().map(d => d.file).sort())
  })

  describe.each(files)('%s', (file) => {
    const v = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Vector
    const envelope = Buffer.from(v.envelope_hex, 'hex')

    it('produces exactly the recorded payload and envelope bytes from the seed and fields', () => {
      const k = key(v.seed_hex)
      expect(k.nodeId).toBe(v.payload.signer)
      expect(Buffer.from(encodeAssertion(payloadOf(v))).toString('hex')).toBe(v.payload_hex)
      expect(Buffer.from(sealAssertion(k, payloadOf(v))).toString('hex')).toBe(v.envelope_hex)
    })

    it('accepts the recorded envelope and reads back the recorded fields', () => {
      const opened = openAssertion(new Uint8Array(envelope))
      expect(opened.signer).toBe(v.payload.signer)
      expect(opened.assertion).toEqual(payloadOf(v))
      expect(Buffer.from(opened.payloadBytes).toString('hex')).toBe(v.payload_hex)
    })

    it('is an envelope of the current assertion payload type', () => {
      expect(new TextDecoder().decode(decodeEnvelope(new Uint8Array(envelope)).payloadType)).toBe(ASSERTION_PAYLOAD_TYPE)
    })

    it('refuses the envelope with any single byte flipped', () => {
      for (let i = 0; i < envelope.length; i++) {
        const flipped = new Uint8Array(envelope)
        flipped[i] = (flipped[i] ?? 0) ^ 0x01
        let err: unknown
        try {
          openAssertion(flipped)
        } catch (e) {
          err = e
        }
        expect(err, `byte ${i} flipped was accepted`).toBeInstanceOf(CairnError)
      }
    })
  })
})
