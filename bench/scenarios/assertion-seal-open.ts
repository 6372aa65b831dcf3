/**
 * Seal and open a 100k-component assertion (issue 4). Baseline: node:crypto ed25519 signing
 * and verifying the same payload bytes — the floor any signed format pays — so the ratio
 * shows what encoding, the name dictionary and field validation add.
 */
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto'
import { nodeKeyFromSeed } from '../../src/identity/node-key.js'
import type { NodeId } from '../../src/identity/node-id.js'
import { openAssertion, sealAssertion } from '../../src/protocol/envelope.js'
import type { Assertion } from '../../src/protocol/messages.js'
import { encodeAssertion } from '../../src/protocol/wire.js'
import { isQuick, median, repeat, report, round } from '../harness.js'

const COMPONENTS = isQuick() ? 5_000 : 100_000
const RUNS = isQuick() ? 3 : 7

const key = nodeKeyFromSeed(new Uint8Array(32).fill(7))
const origins = Array.from({ length: 100 }, (_, i) => nodeKeyFromSeed(new Uint8Array(32).fill(i + 10)).nodeId)
const now = 1_760_000_000 * 1e9
const assertion: Assertion = {
  signer: key.nodeId,
  volume: 'photos',
  epoch: 'a1a1a1a1a1a1a1a1',
  counter: 1,
  issuedAtNs: now,
  receiptFor: null,
  // claims about the signer's own directories: each keyed by its marker, with its owner and label
  components: Array.from({ length: COMPONENTS }, (_, i) => ({
    destination: `dir:${Math.floor(i / 100).toString(16).padStart(32, '0')}`,
    label: `dest-${Math.floor(i / 100)}`,
    owner: key.nodeId,
    originNode: origins[i % 100] as NodeId,
    originRun: 1000 + i,
    verifyMethod: 'sha256-readback' as const,
    exceptions: [],
    verifiedAtNs: now - i * 1e6
  })),
  tombstones: []
}

let envelope: Uint8Array = new Uint8Array()
const sealRuns = await repeat(RUNS, () => { envelope = sealAssertion(key, assertion) })
const openRuns = await repeat(RUNS, () => { openAssertion(envelope) })

// baseline: the signature alone over the same payload bytes, with node:crypto
const payload = encodeAssertion(assertion)
const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.alloc(32, 7)])
const priv = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })
const pub = createPublicKey(priv)
let sig = Buffer.alloc(0)
const baseRuns = await repeat(RUNS, () => { sig = sign(null, payload, priv); verify(null, payload, pub, sig) })

const total = sealRuns.map((s, i) => s + (openRuns[i] ?? 0))
report({
  scenario: 'assertion-seal-open',
  what: `seal + open one assertion of ${COMPONENTS} components (${(envelope.length / 1e6).toFixed(1)} MB envelope)`,
  unit: 'ms',
  median: round(median(total)),
  runs: total.map(x => round(x)),
  baseline_name: 'node:crypto ed25519 sign + verify of the same payload bytes',
  baseline_median: round(median(baseRuns)),
  ratio: round(median(baseRuns) / median(total), 3),
  goal: null,
  params: { components: COMPONENTS, seal_median_ms: round(median(sealRuns)), open_median_ms: round(median(openRuns)), envelope_bytes: envelope.length }
})
