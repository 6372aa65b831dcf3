/**
 * Review 13 — "a name that ever named a peer resolves to that peer, revoked or not" (DESIGN
 * invariant 23; migration 0007's triggers "names that named a peer are never given to another
 * node"; docs/destinations.md "A name that ever named an enrolled peer keeps naming it").
 *
 * Attack (operator acts, each one allowed and audited): nas is revoked. `cairn peer add nas-old
 * <nas's node id> --re-enroll` trusts nas again under another name — `reEnrollPeer` UPDATEs the
 * row's name, and the triggers only check that the *new* name is free, never that the old one
 * stays taken. "nas" is now nobody's, so `cairn peer add nas <another node>` succeeds, and every
 * `offload_requires = ["nas", "nas/offsite"]` written about the old nas (and every display of
 * history naming "nas") silently means the new node: exactly the fall-back to another meaning the
 * invariant forbids. The new node's claims satisfy requirements the operator wrote about a
 * different machine.
 *
 * Suggested fix: a re-enroll keeps the node's name (refuse a different NAME with --re-enroll), or
 * keep retired names in a `node_names(node_id, name)` history table the name checks consult.
 */
import { describe, expect, it } from 'vitest'
import type { Config } from '../../src/config/types.js'
import { resolveTarget } from '../../src/naming.js'
import { revokeSource } from '../../src/store/revocation.js'
import { addSelf, testKey } from '../helpers/nodes.js'
import { memoryStore } from '../helpers/store.js'

describe('a peer name after its peer is re-enrolled under another name', () => {
  it('never gives the name of a revoked peer to another node, even after that peer is re-enrolled under a new name', () => {
    const { store } = memoryStore()
    addSelf(store, 1, 'laptop')
    const nas = store.nodes.enrollPeer(testKey(2).nodeId, 'nas', [])
    revokeSource(store, nas.id)
    // re-enrolling under a new name would free "nas": refused, naming the name it keeps
    expect(() => store.nodes.reEnrollPeer(testKey(2).nodeId, 'nas-old', [])).toThrow(expect.objectContaining({ name: 'PeerNameTakenError', formerName: 'nas' }))
    // the store itself refuses the rename too
    expect(() => store.db.prepare('UPDATE nodes SET name = ? WHERE id = ?').run('nas-old', nas.id)).toThrow(/keeps its name/)
    let enrolled = true
    try {
      store.nodes.enrollPeer(testKey(3).nodeId, 'nas', [])
    } catch {
      enrolled = false
    }
    const config: Config = { file: 'cairn.toml', name: 'laptop', listen: [], serve: { pullEveryMs: 600000 }, volumes: new Map(), destinations: new Map() }
    const t = resolveTarget(store, config, 'nas')
    expect({ enrolled, resolvesTo: t.kind === 'peer' ? t.node.nodeId : t.kind }).toEqual({ enrolled: false, resolvesTo: testKey(2).nodeId })
  })
})
