/**
 * Log records name nodes the way the operator does: a field whose value is a node id (`peer`,
 * `node_id`, `signer`, ...) gets a companion field with the node's local name (`peer_name`,
 * `node_name`, `signer_name`) when this node knows one. The id stays: it is the precise
 * detail; the name is what a person reads. A sink decorator, so every sink (stderr, the log
 * file) and every component gets it without each call site looking names up.
 */
import type { LogFields, LogRecord, LogSink } from '../logger.js'

/** An Ed25519 peer id as cairn prints node ids (base58btc, `12D3KooW` + 44 characters). */
const NODE_ID_RE = /^12D3KooW[1-9A-HJ-NP-Za-km-z]{44}$/

/** The field that carries the name for a field `key`: `peer` → `peer_name`, `node_id` → `node_name`. */
export function nameFieldFor (key: string): string {
  return key.endsWith('_id') ? `${key.slice(0, -3)}_name` : `${key}_name`
}

/** Adds names to the fields of a record; the record itself is not changed. */
export function withNodeNames (fields: LogFields, nameOf: (nodeId: string) => string | undefined): LogFields {
  let out: LogFields | undefined
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value !== 'string' || !NODE_ID_RE.test(value)) continue
    const field = nameFieldFor(key)
    if (field in fields) continue
    const name = nameOf(value)
    if (name === undefined) continue
    out ??= { ...fields }
    out[field] = name
  }
  return out ?? fields
}

/** A sink that writes every record to `inner` with node names added (a failed lookup adds none). */
export function namingSink (inner: LogSink, nameOf: (nodeId: string) => string | undefined): LogSink {
  const safe = (id: string): string | undefined => {
    try {
      return nameOf(id)
    } catch {
      return undefined
    }
  }
  return {
    minLevel: inner.minLevel,
    write: (r: LogRecord) => { inner.write({ ...r, fields: withNodeNames(r.fields, safe) }) }
  }
}
