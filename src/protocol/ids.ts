/** Protocol ids. A change of meaning is a new id, never a reinterpretation of an old one. */
export const DURABILITY_PROTOCOL = '/cairn/durability/2.0.0'
export const PUSH_PROTOCOL = '/cairn/push/2.0.0'
/** Largest durability request frame: a volume name and framing. */
export const MAX_DURABILITY_REQUEST_BYTES = 256
/** Ask a peer to hold files while this node offloads its own copy (DESIGN invariant 29). */
export const HOLD_PROTOCOL = '/cairn/hold/1.0.0'
/** Stream a volume's file bytes back from a peer that holds them (`cairn restore --from PEER`). */
export const FETCH_PROTOCOL = '/cairn/fetch/1.0.0'
/** Ask a peer that holds a volume this node pushes to re-read it and sign a fresh assertion (`cairn verify --at PEER`). */
export const VERIFY_PROTOCOL = '/cairn/verify/1.0.0'
