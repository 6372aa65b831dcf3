/**
 * Splits per-file entries into requests that each fit a protocol's count and frame limits
 * (hold and fetch requests): an entry costs its UTF-8 path plus a fixed overhead (hash and
 * protobuf framing), a request a fixed overhead of its own (volume, nonce, the frame).
 */
export interface RequestLimits {
  maxEntries: number
  maxRequestBytes: number
  /** Bytes an entry adds beyond its path. */
  entryOverheadBytes: number
  /** Bytes of a request before its first entry. */
  requestOverheadBytes: number
}

export function requestBatches<T extends { path: string }> (files: readonly T[], limits: RequestLimits): T[][] {
  const batches: T[][] = []
  let current: T[] = []
  let bytes = limits.requestOverheadBytes
  for (const f of files) {
    const size = Buffer.byteLength(f.path, 'utf8') + limits.entryOverheadBytes
    if (current.length > 0 && (current.length >= limits.maxEntries || bytes + size > limits.maxRequestBytes)) {
      batches.push(current)
      current = []
      bytes = limits.requestOverheadBytes
    }
    current.push(f)
    bytes += size
  }
  if (current.length > 0) batches.push(current)
  return batches
}
