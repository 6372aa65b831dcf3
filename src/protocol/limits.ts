/**
 * Every bound cairn puts on what a peer sends, with its unit. protocol/README.md lists each
 * one with its reason; a test keeps the two in step.
 */

/** Largest length-prefixed control frame (requests, responses, plan chunks). Fits every component an assertion may carry. */
export const MAX_FRAME_BYTES = 32 * 1024 * 1024
/** Largest raw data frame of a push transfer. */
export const MAX_DATA_FRAME_BYTES = 1024 * 1024
/**
 * Components in one assertion: a worst-case component (a directory key, label and owner as
 * dictionary references, maximal runs, floor and instant) is ~45 bytes, so 524,288 of them
 * and a full dictionary fit in MAX_FRAME_BYTES. (A fleet needs destinations × origins: a few
 * thousand.)
 */
export const MAX_COMPONENTS_PER_ASSERTION = 524_288
/** Bytes of a sequence epoch: random per home, changed only by an audited act (DESIGN invariant 9). */
export const EPOCH_BYTES = 8
/**
 * Largest sequence counter (2^53 - 1): decoders refuse a larger one; a node whose counter
 * reached it refuses to sign (never wraps). One per signed assertion, so it is never reached
 * by counting.
 */
export const MAX_SEQUENCE_COUNTER = Number.MAX_SAFE_INTEGER
/** Directories one hold request may name in `placed_at`. */
export const MAX_HOLD_DIRECTORIES = 16
/** Exceptions (holes) one component may carry; past it the signer caps the claim instead. */
export const MAX_EXCEPTIONS_PER_COMPONENT = 256
/** Exceptions in one assertion, over all its components. */
export const MAX_EXCEPTIONS_PER_ASSERTION = 65_536
/** Entries of an assertion's name dictionary (destinations and origin node ids). */
export const MAX_NAMES_PER_ASSERTION = 8192
/** Origin nodes a single pull may introduce to this node's database. */
export const MAX_NEW_ORIGINS_PER_PULL = 256
/** Characters of a dictionary name (a directory destination name or a node id). */
export const MAX_WIRE_NAME_CHARS = 128
/** Characters of a volume name. */
export const MAX_VOLUME_NAME_CHARS = 64
/** Bytes of a plan path (UTF-8) and of one path segment. */
export const MAX_PATH_BYTES = 4096
export const MAX_PATH_SEGMENT_BYTES = 255
/** Files in one push plan. */
export const MAX_PLAN_ENTRIES = 1_000_000
/** Plan entries in one PlanChunk frame. */
export const MAX_PLAN_CHUNK_ENTRIES = 8192
/** Origin node ids in one PushOffer. */
export const MAX_PUSH_ORIGINS = 1024
/** Bytes of a short status message on the wire. */
export const MAX_STATUS_MESSAGE_CHARS = 256
/** A whole durability request/response exchange, either side. */
export const DURABILITY_DEADLINE_MS = 30_000
/** Waiting for any single frame of a push (plan, reply, one data frame, the result). */
export const PUSH_FRAME_DEADLINE_MS = 30_000
/** The receiver's re-hash and index of a push after the last byte arrived. */
export const PUSH_FINISH_DEADLINE_MS = 10 * 60_000
/** Concurrent inbound streams per connection, per protocol. */
export const MAX_INBOUND_DURABILITY_STREAMS = 4
export const MAX_INBOUND_PUSH_STREAMS = 2
/** Sanity window for timestamps on the wire: 2020-01-01 .. 2100-01-01 in ns. */
export const MIN_SANE_TIME_NS = 1_577_836_800 * 1e9
export const MAX_SANE_TIME_NS = 4_102_444_800 * 1e9
/** Files in one `/cairn/hold/1.0.0` request (a larger offload sends several requests). */
export const MAX_HOLD_ENTRIES = 65_536
/** Largest hold request frame; the client splits its files so that each request fits. */
export const MAX_HOLD_REQUEST_BYTES = 8 * 1024 * 1024
/** Longest hold a node grants: the promise not to offload, replace or forget files. */
export const MAX_HOLD_DURATION_MS = 10 * 60_000
/** A whole hold request/response exchange, either side (the holder lstats every file). */
export const HOLD_DEADLINE_MS = 30_000
/** Concurrent inbound hold streams per connection. */
export const MAX_INBOUND_HOLD_STREAMS = 2
// ---- /cairn/fetch/1.0.0 ----
/** Files in one fetch request (a larger restore sends several requests, one stream each). */
export const MAX_FETCH_ENTRIES = 4096
/** Largest fetch request frame (4096 entries of maximal paths would not fit: the client splits by bytes too). */
export const MAX_FETCH_REQUEST_BYTES = 1024 * 1024
/** Largest fetch control frame from the server (the response and each file header). */
export const MAX_FETCH_HEADER_BYTES = 1024
/** Waiting for any single frame of a fetch, either side (the request, a header, one data frame). */
export const FETCH_FRAME_DEADLINE_MS = 30_000
/** Concurrent inbound fetch streams per connection. */
export const MAX_INBOUND_FETCH_STREAMS = 2
// ---- /cairn/verify/1.0.0 ----
/** Files a sampled verify may ask a peer to re-read. */
export const MAX_VERIFY_SAMPLE = 10_000
/** Problem paths in a verify's final reply (the counts are complete; the peer's run lists every one). */
export const MAX_VERIFY_PROBLEMS = 100
/** Largest verify request frame: a volume name, a count and framing. */
export const MAX_VERIFY_REQUEST_BYTES = 256
/** The peer sends a progress frame at least this often while it re-reads. */
export const VERIFY_PROGRESS_MS = 5_000
/** Waiting for any single frame of a verify, either side (the request, a progress frame, the final reply). */
export const VERIFY_FRAME_DEADLINE_MS = 60_000
/** A whole verify, either side: a volume too large to re-read in this long is verified with --sample. */
export const VERIFY_MAX_MS = 24 * 3600_000
/** Concurrent inbound verify streams per connection (a re-read is disk-bound). */
export const MAX_INBOUND_VERIFY_STREAMS = 1
