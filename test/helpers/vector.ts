import type { Store } from '../../src/store/store.js'
import { memoryStore, type TestStore } from './store.js'
import { addPeer, addSelf } from './nodes.js'
import type { NodeKey } from '../../src/identity/node-key.js'

export interface VectorFixture extends TestStore {
  self: NodeKey & { rowId: number }
  a: NodeKey & { rowId: number }
  b: NodeKey & { rowId: number }
  photos: number
  music: number
  /** A running push run (for local writes). */
  pushRun: (destination?: string) => number
  /** A running pull run from a peer (for pulled writes). */
  pullRun: (peerRowId: number, allowRewind?: boolean) => number
  historyCount: () => number
}

export function vectorFixture (): VectorFixture {
  const t = memoryStore()
  const selfKey = addSelf(t.store, 1, 'laptop')
  const self = { ...selfKey, rowId: t.store.nodes.self().id }
  const a = addPeer(t.store, 2, 'nas')
  const b = addPeer(t.store, 3, 'friend')
  const photos = t.store.volumes.ensure('photos', '/data/photos').id
  const music = t.store.volumes.ensure('music', '/data/music').id
  return {
    ...t,
    self,
    a,
    b,
    photos,
    music,
    pushRun: (destination = 'usb') => t.store.runs.begin({ kind: 'push', volumeId: photos, destination }).id,
    pullRun: (peer, allowRewind = false) => t.store.runs.begin({ kind: 'pull', volumeId: photos, peerNodeId: peer, detail: allowRewind ? { allow_rewind: 1 } : {} }).id,
    historyCount: () => t.store.db.prepare('SELECT count(*) FROM vector_history').pluck().get() as number
  }
}

/** Raw snapshot of the vector-related tables and the destination registry, for byte-level before/after comparisons. */
export function snapshotEvidence (store: Store): string {
  const dump = (sql: string): unknown[] => store.db.prepare(sql).all()
  return JSON.stringify({
    vector: dump('SELECT * FROM vector ORDER BY volume_id, destination, origin_node_id'),
    history: dump('SELECT * FROM vector_history ORDER BY id'),
    freshness: dump('SELECT * FROM push_freshness ORDER BY volume_id, destination, origin_node_id, source_node_id'),
    assertions: dump('SELECT id, signer_node_id, volume, seq, epoch, counter, hex(envelope_sha256) FROM assertions ORDER BY id'),
    watermarks: dump('SELECT signer_node_id, volume, epoch, counter, hex(envelope_sha256) FROM sequence_watermarks ORDER BY signer_node_id, volume'),
    nodes: dump('SELECT id, node_id, name, enrolled_at_ns, revoked_at_ns FROM nodes ORDER BY id'),
    // the destination registry: an accepted directory claim records its marker's owner
    destinations: dump('SELECT * FROM destinations ORDER BY key')
  })
}
