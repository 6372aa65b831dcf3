/**
 * Every error cairn throws on purpose. Each class has a fixed `name` and detail fields that
 * say exactly what was refused; tests assert on those, never on message text. Anything that
 * is not a CairnError is a bug.
 */

export abstract class CairnError extends Error {
  /** One-line advice for the operator: the act that would clear the problem. */
  hint?: string

  constructor (message: string, options?: { cause?: unknown, hint?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    if (options?.hint !== undefined) this.hint = options.hint
  }
}

/**
 * A node as the operator knows it: its local name with the node id as the detail
 * (`nas (node 12D3KooW…)`), or `node 12D3KooW…` when this node has no name for it.
 */
export function nodeRef (nodeId: string, name?: string | null): string {
  return name === undefined || name === null ? `node ${nodeId}` : `${name} (node ${nodeId})`
}

/**
 * The command line was malformed: an unknown or conflicting option, a missing or bad argument
 * or option value. The CLI exits 2 for it and every subclass; a refusal (the request is well
 * formed but the state says no) is any other CairnError and exits 1.
 */
export class UsageError extends CairnError {
  override name: string = 'UsageError'
}

/**
 * A multiaddr on the command line (`--addr`, `--listen`) that is not a TCP multiaddr: says
 * why in plain words, what a multiaddr is, and what was probably meant (exit 2).
 */
export class InvalidMultiaddrError extends UsageError {
  override name = 'InvalidMultiaddrError' as const
  constructor (readonly option: string, readonly value: string, readonly reason: string, readonly suggestion: string | null) {
    super(`${option} ${JSON.stringify(value.slice(0, 80))} is not a TCP multiaddr: ${reason}. A multiaddr spells an address as /PROTOCOL/VALUE pairs: ` +
      '/ip4/ADDRESS/tcp/PORT, /ip6/ADDRESS/tcp/PORT or /dns/HOSTNAME/tcp/PORT', {
      hint: suggestion === null ? `e.g. ${option} /ip4/192.168.1.5/tcp/4701` : `did you mean ${option} ${suggestion}?`
    })
  }
}

// ---- home, config, identity -------------------------------------------------------------

export class HomeExistsError extends CairnError {
  override name = 'HomeExistsError' as const
  constructor (readonly home: string, readonly entry: string) {
    super(`${home} already holds a cairn home (found ${entry})`, {
      hint: 'choose another --home, or keep using the existing node'
    })
  }
}

export class HomeMissingError extends CairnError {
  override name = 'HomeMissingError' as const
  constructor (readonly home: string, readonly missing: string) {
    super(`${home} is not a cairn home: ${missing} is missing`, {
      hint: `run \`cairn --home ${home} init\` first, or point --home / CAIRN_HOME at an existing home`
    })
  }
}

export class ConfigError extends CairnError {
  override name = 'ConfigError' as const
  constructor (readonly file: string, readonly key: string, readonly expected: string, readonly got?: string) {
    super(`${file}: ${key}: expected ${expected}${got === undefined ? '' : `, got ${got}`}`)
  }
}

export class KeyFilePermissionsError extends CairnError {
  override name = 'KeyFilePermissionsError' as const
  constructor (readonly path: string, readonly mode: number) {
    super(`${path} is readable by group or others (mode ${mode.toString(8).padStart(4, '0')}); refusing to use it`, {
      hint: `run \`chmod 600 ${path}\``
    })
  }
}

export class KeyFileInvalidError extends CairnError {
  override name = 'KeyFileInvalidError' as const
  constructor (readonly path: string, readonly reason: string) {
    super(`${path} is not a valid cairn node key: ${reason}`)
  }
}

export class InvalidNodeIdError extends CairnError {
  override name = 'InvalidNodeIdError' as const
  constructor (readonly value: string, readonly reason: string) {
    super(`${JSON.stringify(value.slice(0, 80))} is not a valid node id: ${reason}`)
  }
}

// ---- http (the status page and /metrics of `cairn serve`) -------------------------------

/** The HTTP listener could not bind `[serve] http`; serve goes on without it. */
export class HttpBindError extends CairnError {
  override name = 'HttpBindError' as const
  constructor (readonly address: string, readonly code: string, readonly reason: string, cause: unknown) {
    super(`cannot serve HTTP on ${address}: ${reason}`, {
      cause,
      hint: 'change `[serve] http` in cairn.toml: another port, "127.0.0.1:0" for any free one, or "" to turn HTTP off'
    })
  }
}

/** The HTTP token file exists but holds no usable token. */
export class HttpTokenFileError extends CairnError {
  override name = 'HttpTokenFileError' as const
  constructor (readonly path: string, readonly problem: string) {
    super(`the HTTP token file ${path} ${problem}`, {
      hint: `delete it (serve writes a new one, mode 0600) or write a token of ${16}-${512} characters without spaces into it`
    })
  }
}

// ---- store ------------------------------------------------------------------------------

export class DatabaseFromFutureError extends CairnError {
  override name = 'DatabaseFromFutureError' as const
  constructor (readonly path: string, readonly databaseVersion: number, readonly supportedVersion: number) {
    super(`${path} has schema version ${databaseVersion}, but this cairn only knows versions up to ${supportedVersion}`, {
      hint: 'run a newer cairn binary; an older one never opens a newer database'
    })
  }
}

export class MigrationSequenceError extends CairnError {
  override name = 'MigrationSequenceError' as const
  constructor (readonly files: string[], readonly reason: string) {
    super(`migrations are not a contiguous sequence: ${reason}`)
  }
}

export class MigrationFailedError extends CairnError {
  override name = 'MigrationFailedError' as const
  constructor (readonly fromVersion: number, readonly toVersion: number, readonly file: string, cause: unknown) {
    super(`migration ${file} failed; the database stays at version ${fromVersion}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
  }
}

export class ForeignKeyViolationError extends CairnError {
  override name = 'ForeignKeyViolationError' as const
  constructor (readonly violations: Array<{ table: string, rowid: number, parent: string }>) {
    super(`foreign key check failed after migration: ${violations.length} violation(s), first in ${violations[0]?.table ?? '?'}`)
  }
}

// ---- runs -------------------------------------------------------------------------------

export interface BlockingRun {
  id: number
  kind: string
  destination: string | null
  startedAtNs: number
  /** Set when its owner process is one this process cannot see (another pid namespace or host): where to look. */
  unseenOwner?: string
}

export class RunConflictError extends CairnError {
  override name = 'RunConflictError' as const
  constructor (readonly kind: string, readonly volume: string | null, readonly blocking: BlockingRun) {
    const at = new Date(Math.floor(blocking.startedAtNs / 1e6)).toISOString()
    const target = blocking.destination === null ? '' : ` to ${blocking.destination}`
    super(`cannot start ${kind}${volume === null ? '' : ` of ${volume}`}: ${blocking.kind}${target} run ${blocking.id} started at ${at} is still running`, {
      hint: blocking.unseenOwner === undefined
        ? 'wait for it to finish; `cairn runs` lists what is running'
        : `its owner is ${blocking.unseenOwner}, which this process cannot see: wait for it to finish, or run the command there so a dead owner is noticed`
    })
  }
}

export class RunAlreadyFinishedError extends CairnError {
  override name = 'RunAlreadyFinishedError' as const
  constructor (readonly runId: number, readonly current: string, readonly attempted: string) {
    super(`run ${runId} already finished as ${current}; refusing to finish it again as ${attempted}`)
  }
}

export class UnknownRunError extends CairnError {
  override name = 'UnknownRunError' as const
  constructor (readonly runId: number) {
    super(`no run ${runId}`)
  }
}

// ---- volumes ------------------------------------------------------------------------------

export class UnknownVolumeError extends CairnError {
  override name = 'UnknownVolumeError' as const
  constructor (readonly volume: string, readonly known: string[]) {
    super(`no volume named ${volume} in the config${known.length > 0 ? ` (known: ${known.join(', ')})` : ''}`, {
      hint: `declare it as [volumes.${volume}] in cairn.toml`
    })
  }
}

export class VolumePathMismatchError extends CairnError {
  override name = 'VolumePathMismatchError' as const
  constructor (readonly volume: string, readonly configPath: string, readonly databasePath: string) {
    super(`volume ${volume}: the config says path = ${configPath}, but its evidence was recorded for ${databasePath}`, {
      hint: `set path = "${databasePath}" in cairn.toml again; cairn never moves evidence to another directory silently`
    })
  }
}

// ---- peers --------------------------------------------------------------------------------

export class InvalidInviteError extends CairnError {
  override name = 'InvalidInviteError' as const
  constructor (readonly reason: string) {
    super(`not a valid cairn invite: ${reason}`, { hint: 'copy the whole token printed by `cairn id` on the other node' })
  }
}

export class ServeAlreadyRunningError extends CairnError {
  override name = 'ServeAlreadyRunningError' as const
  constructor (readonly home: string, readonly pid: number) {
    super(`serve is already running for ${home} (pid ${pid})`, { hint: 'stop it first, or use another --home' })
  }
}

/**
 * `serve` could not bind a listen address: `code` is the system error (EADDRINUSE,
 * EADDRNOTAVAIL, EACCES, ...). The message names the address and the cause in plain words.
 */
export class ListenError extends CairnError {
  override name = 'ListenError' as const
  constructor (readonly addr: string, readonly code: string, cause?: unknown, readonly alsoFailed: string[] = []) {
    const { what, hint } = listenCause(code)
    const more = alsoFailed.length === 0 ? '' : ` (and ${alsoFailed.join(', ')})`
    super(`cannot listen on ${addr}${more}: ${what}`, { cause, hint })
  }
}

function listenCause (code: string): { what: string, hint: string } {
  switch (code) {
    case 'EADDRINUSE': return { what: 'the address is already in use', hint: 'is another cairn serve running? change `listen` in cairn.toml' }
    case 'EADDRNOTAVAIL': return { what: 'the address is not available: no network interface of this machine has that IP address', hint: 'listen on 0.0.0.0 or one of this machine\'s addresses: change `listen` in cairn.toml' }
    case 'EACCES': return { what: 'permission denied (ports below 1024 need privileges)', hint: 'choose a port above 1023: change `listen` in cairn.toml' }
    default: return { what: `the system refused it (${code})`, hint: 'check `listen` in cairn.toml' }
  }
}

// ---- vector -------------------------------------------------------------------------------

export class VectorRewindError extends CairnError {
  override name = 'VectorRewindError' as const
  constructor (readonly volume: string, readonly destination: string, readonly origin: string, readonly current: number, readonly attempted: number) {
    super(`refused to move ${volume}/${destination} origin ${origin} backwards from run ${current} to ${attempted}`, {
      hint: 'a component only moves forward; `cairn vector rewind` is the explicit way down'
    })
  }
}

export class NotARewindError extends CairnError {
  override name = 'NotARewindError' as const
  constructor (readonly volume: string, readonly destination: string, readonly origin: string, readonly current: number | null, readonly attempted: number) {
    super(current === null
      ? `${volume}/${destination} has no component for origin ${origin}; there is nothing to rewind`
      : `rewinding ${volume}/${destination} origin ${origin} to run ${attempted} would not lower it (it is at ${current})`)
  }
}

export class PeerRevokedError extends CairnError {
  override name = 'PeerRevokedError' as const
  constructor (readonly nodeId: string, readonly revokedAtNs: number, readonly peerName: string | null = null) {
    super(`${nodeRef(nodeId, peerName)} was revoked; its connections and assertions are refused`, {
      hint: `remove it from push_to, or \`cairn peer add ${peerName ?? 'NAME'} ${nodeId} --re-enroll\` if you trust this key again`
    })
  }
}

export class UnknownNodeError extends CairnError {
  override name = 'UnknownNodeError' as const
  constructor (readonly reference: string) {
    super(`no node known as ${reference}`, { hint: '`cairn peer list` shows enrolled peers' })
  }
}

export class PeerAlreadyEnrolledError extends CairnError {
  override name = 'PeerAlreadyEnrolledError' as const
  constructor (readonly nodeId: string, readonly existingName: string | null) {
    super(existingName === null
      ? `${nodeRef(nodeId)} is already enrolled`
      : `that node is already enrolled as ${existingName} (node ${nodeId}); a node has one name here`, {
      hint: existingName === null ? '`cairn peer list` shows enrolled peers' : `\`cairn peer add ${existingName} ...\` updates its addresses`
    })
  }
}

export class PeerNameTakenError extends CairnError {
  override name = 'PeerNameTakenError' as const
  constructor (readonly peerName: string, readonly takenBy: string, readonly takenByRevoked = false, readonly formerName?: string) {
    super(formerName !== undefined
      ? `that node was enrolled as ${formerName} (node ${takenBy}); re-enrolling keeps that name (a name that named a peer keeps naming it), so it cannot become ${peerName}`
      : takenByRevoked
        ? `the name ${peerName} named another node (${takenBy}), which was revoked; a name that named a peer keeps naming it, so evidence and requirements under it never change meaning`
        : `the name ${peerName} already names another node (${takenBy})`, { hint: formerName !== undefined ? `re-enroll it as ${formerName}` : 'choose another name' })
  }
}

export class RevokedPeerEnrollError extends CairnError {
  override name = 'RevokedPeerEnrollError' as const
  constructor (readonly nodeId: string, readonly revokedAtNs: number, readonly peerName: string | null = null) {
    super(`${nodeRef(nodeId, peerName)} was revoked; refusing to enroll it again`, { hint: 'pass --re-enroll if you really trust this key again (it is recorded as a run)' })
  }
}

export class SelfEnrollError extends CairnError {
  override name = 'SelfEnrollError' as const
  constructor (readonly nodeId: string) {
    super(`node ${nodeId} is this node itself`)
  }
}

// ---- wire and assertions ------------------------------------------------------------------

/** A message from the wire that is malformed or out of bounds; `field` names the offending field. */
export class InvalidMessageError extends CairnError {
  override name = 'InvalidMessageError' as const
  constructor (readonly field: string, readonly reason: string) {
    super(`invalid message: ${field}: ${reason}`)
  }
}

export class OversizeMessageError extends CairnError {
  override name = 'OversizeMessageError' as const
  constructor (readonly what: string, readonly bytes: number, readonly limit: number) {
    super(`${what} of ${bytes} bytes exceeds the limit of ${limit}`)
  }
}

export class InvalidSignatureError extends CairnError {
  override name = 'InvalidSignatureError' as const
  constructor (readonly signer: string) {
    super(`the signature does not verify against the key of ${signer}`)
  }
}

export class UnknownPayloadTypeError extends CairnError {
  override name = 'UnknownPayloadTypeError' as const
  constructor (readonly payloadType: string) {
    super(`unknown envelope payload type ${JSON.stringify(payloadType.slice(0, 64))}`)
  }
}

export class UnknownSignerError extends CairnError {
  override name = 'UnknownSignerError' as const
  constructor (readonly signer: string) {
    super(`${signer} is not an enrolled peer; its assertions are refused`)
  }
}

export class SignerMismatchError extends CairnError {
  override name = 'SignerMismatchError' as const
  constructor (readonly signer: string, readonly expected: string, readonly signerName: string | null = null, readonly expectedName: string | null = null) {
    super(`the assertion is signed by ${nodeRef(signer, signerName)}, but ${nodeRef(expected, expectedName)} was expected`)
  }
}

export class AssertionContextError extends CairnError {
  override name = 'AssertionContextError' as const
  constructor (readonly field: string, readonly got: string, readonly expected: string) {
    super(`the assertion's ${field} is ${got}, expected ${expected}`)
  }
}

export class ReplayedAssertionError extends CairnError {
  override name = 'ReplayedAssertionError' as const
  constructor (readonly signer: string, readonly volume: string, readonly seq: number, readonly lastSeq: number, readonly signerName: string | null = null) {
    super(`refused assertion ${seq} from ${nodeRef(signer, signerName)} for ${volume}: sequence ${lastSeq} was already accepted`)
  }
}

/**
 * A signer's assertion carries a sequence epoch other than the one this node pinned for it: the
 * signer was rebuilt (a new home, same key) or someone replays another home's assertions. Its
 * assertions stay refused until the operator checks the node and re-enrolls it (`cairn peer
 * revoke NAME`, then `cairn peer add NAME NODE_ID --re-enroll`), which resets its watermarks.
 */
export class EpochChangedError extends CairnError {
  override name = 'EpochChangedError' as const
  constructor (readonly signer: string, readonly volume: string, readonly pinnedEpoch: string, readonly epoch: string, readonly signerName: string | null = null) {
    super(`refused an assertion from ${nodeRef(signer, signerName)} for ${volume}: it is signed in sequence epoch ${epoch}, but this node accepted epoch ${pinnedEpoch} from that key; ` +
      `the node was rebuilt (or its assertions are replayed from another home). If it was rebuilt, re-enroll it: \`cairn peer revoke ${signerName ?? 'NAME'}\`, then \`cairn peer add ${signerName ?? 'NAME'} ${signer} --re-enroll\``)
  }
}

/** This node's sequence counter for a volume reached MAX_SEQUENCE_COUNTER: it refuses to sign rather than wrap. */
export class SequenceExhaustedError extends CairnError {
  override name = 'SequenceExhaustedError' as const
  constructor (readonly volume: string, readonly counter: number) {
    super(`refusing to sign another assertion for ${volume}: its sequence counter is at its maximum ${counter} (2^53 - 1) and never wraps; ` +
      'a counter grows by one per assertion, so the database was altered. Start a new home (a new epoch) and re-enroll this node at its peers')
  }
}

export class TooManyOriginsError extends CairnError {
  override name = 'TooManyOriginsError' as const
  constructor (readonly peer: string, readonly newOrigins: number, readonly limit: number) {
    super(`refused the whole pull from ${peer}: it would introduce ${newOrigins} new origin nodes (the limit is ${limit} per pull)`)
  }
}

export class PeerStatusError extends CairnError {
  override name = 'PeerStatusError' as const
  constructor (readonly peer: string, readonly status: string, readonly peerMessage: string) {
    super(`${peer} answered ${status}${peerMessage === '' ? '' : `: ${peerMessage}`}`)
  }
}

export class VolumeRootMissingError extends CairnError {
  override name = 'VolumeRootMissingError' as const
  constructor (readonly volume: string, readonly path: string, readonly reason: string) {
    super(`volume ${volume}: ${path} ${reason}`, { hint: 'is the disk mounted? cairn never treats a missing volume root as "every file deleted"' })
  }
}

/**
 * A volume root whose identity marker (`.cairn-volume`) is not the one this node recorded:
 * missing (an unmounted disk: the bare mount point), another marker (another disk, another
 * volume or another node's volume mounted there), or unreadable. Index, receive and offload
 * refuse; nothing is written.
 */
export class VolumeMarkerError extends CairnError {
  override name = 'VolumeMarkerError' as const
  constructor (
    readonly volume: string,
    readonly root: string,
    /** The marker id this node recorded for the volume (null: none yet). */
    readonly recorded: string | null,
    /** What is at the root: null (no marker), 'unreadable', or the marker id found. */
    readonly found: string | null,
    /** For a marker found: the node id it names and the volume it names. */
    readonly foundOwner: string | null = null,
    readonly foundVolume: string | null = null,
    /** This node's name for the marker's owner, when it has one (it is this node, or a peer). */
    readonly foundOwnerName: string | null = null
  ) {
    const what = found === null
      ? 'is missing'
      : found === 'unreadable'
        ? 'cannot be read'
        : foundOwner !== null && foundVolume !== null
          ? `is ${found} (volume ${foundVolume} of ${nodeRef(foundOwner, foundOwnerName)})`
          : `is ${found}`
    super(recorded === null
      ? `volume ${volume}: the identity marker ${root}/.cairn-volume ${what}; it is not this node's marker for ${volume}, so nothing is written there`
      : `volume ${volume}: the identity marker ${root}/.cairn-volume ${what}, but this node recorded ${recorded}: this is not the volume's disk (not mounted, or another disk)`, {
      hint: recorded === null
        ? `mount the disk that holds ${volume}, or use another directory; if this tree really is to become ${volume}, move ${root}/.cairn-volume away and run \`cairn volume init ${volume}\``
        : `check the mount: mount the disk that holds ${volume} at ${root} and try again; if ${volume} now lives on a new or reformatted disk, run \`cairn volume init ${volume} --reset\` (then \`cairn index ${volume}\`)`
    })
  }
}

/**
 * A volume root with no marker and nothing in it, where this node has not recorded a marker:
 * it may be the bare mount point of an unmounted disk, so cairn never writes a marker there by
 * itself, never receives into it, and never indexes it as "every file deleted".
 */
export class VolumeRootEmptyError extends CairnError {
  override name = 'VolumeRootEmptyError' as const
  constructor (readonly volume: string, readonly root: string, readonly filesRecorded: number) {
    super(filesRecorded > 0
      ? `volume ${volume}: ${root} is empty and has no identity marker, but this node recorded ${filesRecorded} file(s) there; it looks like an unmounted disk`
      : `volume ${volume}: ${root} is empty and has no identity marker yet (it may be the mount point of a disk that is not mounted)`, {
      hint: `mount the disk that holds ${volume}; if ${root} really is the (new, empty) volume, run \`cairn volume init ${volume}\` on this node`
    })
  }
}

/** An offload of a volume whose root has no recorded marker yet (an index or `volume init` records it). */
export class VolumeNotInitializedError extends CairnError {
  override name = 'VolumeNotInitializedError' as const
  constructor (readonly volume: string, readonly root: string) {
    super(`volume ${volume}: ${root} has no identity marker yet, so this node cannot tell its disk from a bare mount point`, {
      hint: `run \`cairn index ${volume}\` (it writes the marker over a non-empty root) or \`cairn volume init ${volume}\``
    })
  }
}

// ---- destinations ---------------------------------------------------------------------------

export class DestinationMarkerError extends CairnError {
  override name = 'DestinationMarkerError' as const
  constructor (readonly destination: string, readonly root: string, readonly recorded: string | null, readonly found: string | null) {
    super(found === null
      ? `destination ${destination}: the identity marker ${root}/.cairn-destination is missing, but evidence was recorded for marker ${recorded ?? '?'}`
      : recorded === null
        ? `destination ${destination}: the identity marker ${root}/.cairn-destination is ${found}; refusing to write over a marker this node cannot read`
        : `destination ${destination}: the identity marker at ${root} is ${found}, but evidence was recorded for ${recorded}`, {
      hint: `this is not the disk the evidence is about (swapped, reformatted, or not mounted); if that is intended, run \`cairn destination reset ${destination}\` and push again`
    })
  }
}

/** A directory whose marker another node owns: only the owner writes there (invariant 24). */
export class DestinationOwnedError extends CairnError {
  override name = 'DestinationOwnedError' as const
  constructor (readonly destination: string, readonly root: string, readonly markerId: string, readonly ownerNodeId: string | null, readonly ownerLabel: string) {
    super(ownerNodeId === null
      ? `destination ${destination}: ${root} carries a marker (${markerId}) that names no owner; refusing to write into a directory this node did not create`
      : `destination ${destination}: ${root} belongs to node ${ownerLabel} (${ownerNodeId}), which writes it as its destination; only the owner writes to a destination`, {
      hint: ownerNodeId === null
        ? `if this directory is yours (written by an older cairn), run \`cairn destination adopt ${destination} --yes\`; otherwise use another directory`
        : `push to ${ownerLabel} instead (it pushes on) or use another directory; if this node replaced ${ownerLabel} (its key was revoked), run \`cairn destination adopt ${destination} --yes\``
    })
  }
}

/** A destination root that lies inside another destination's tree. */
export class DestinationNestedError extends CairnError {
  override name = 'DestinationNestedError' as const
  constructor (readonly destination: string, readonly root: string, readonly outerRoot: string, readonly outerKind: 'destination' | 'volume' = 'destination') {
    super(outerKind === 'volume'
      ? `destination ${destination}: ${root} lies inside a cairn node's volume (${outerRoot} has a .cairn-volume marker); writing there would replace that node's own copy`
      : `destination ${destination}: ${root} lies inside another destination (${outerRoot} has a .cairn-destination marker); writing there would replace files its owner placed`, {
      hint: `use a directory outside ${outerRoot}, or push to the node that owns it; if the marker there is a leftover of a destination no node uses any more, remove ${outerRoot}/${outerKind === 'volume' ? '.cairn-volume' : '.cairn-destination'} by hand`
    })
  }
}

/** One marker reached under two names, or a marker another node owns recorded as ours. */
export class DestinationAliasError extends CairnError {
  override name = 'DestinationAliasError' as const
  constructor (readonly destination: string, readonly markerId: string, readonly otherName: string | null, readonly reason: string) {
    super(otherName === null
      ? `destination ${destination}: marker ${markerId}: ${reason}`
      : `destination ${destination} is the same directory as destination ${otherName} (marker ${markerId}); one directory is one copy`, {
      hint: otherName === null ? 'use another directory' : `remove one of ${otherName} and ${destination} from the config (a push to a renamed destination takes its marker over once the old name is gone), or \`cairn destination reset ${otherName} --yes\``
    })
  }
}

/** A name in the config that resolves to nothing (invariant 23): never guessed. */
export class UnknownTargetNameError extends CairnError {
  override name = 'UnknownTargetNameError' as const
  constructor (readonly file: string, readonly key: string, readonly target: string, readonly closest: string | null, readonly reason?: string) {
    super(`${file}: ${key}: ${reason ?? `${JSON.stringify(target)} is not a [destinations.*] entry, an enrolled peer, or PEER/NAME of one${closest === null ? '' : `; did you mean ${JSON.stringify(closest)}?`}`}`, {
      hint: 'a name never falls back to another meaning: declare the destination, enroll the peer (`cairn peer add`), or name a peer\'s directory as PEER/NAME'
    })
  }
}

export class DestinationUnavailableError extends CairnError {
  override name = 'DestinationUnavailableError' as const
  constructor (readonly destination: string, readonly root: string, readonly reason: string) {
    super(`destination ${destination}: ${root} ${reason}`, { hint: `mount it, or create the directory (\`mkdir -p ${root}\`) for a new destination` })
  }
}

export class DestinationPathError extends CairnError {
  override name = 'DestinationPathError' as const
  constructor (readonly path: string, readonly reason: string) {
    super(`refusing to write ${path}: ${reason}`)
  }
}

/**
 * A create-exclusive commit found its final path taken (DESIGN invariant 25): `occupied` —
 * something is there that the writer was not told to replace (another writer got there first,
 * or a user's file); `changed` — the file the writer checked and meant to replace is not the
 * one there now. Nothing was replaced; `keptAt` is set when the file that is in the way had
 * already been moved to history and could not be moved back (it is kept there, whole).
 */
export class CommitConflictError extends CairnError {
  override name = 'CommitConflictError' as const
  constructor (readonly path: string, readonly found: 'occupied' | 'changed', readonly keptAt: string | null = null) {
    super(found === 'occupied'
      ? `refusing to write ${path}: something is already there that this write was not meant to replace`
      : `refusing to write ${path}: the file there changed since it was checked${keptAt === null ? '' : ` (it is kept at ${keptAt})`}`)
  }
}

export class ReceiptRefusedError extends CairnError {
  override name = 'ReceiptRefusedError' as const
  constructor (readonly peer: string, readonly reason: string) {
    super(`refused the receipt from ${peer}: ${reason}`)
  }
}

// ---- offload --------------------------------------------------------------------------------

export class OffloadPolicyMissingError extends CairnError {
  override name = 'OffloadPolicyMissingError' as const
  constructor (readonly volume: string, readonly file: string) {
    super(`volume ${volume} has no offload_requires: nothing may be offloaded`, {
      hint: `list the targets that must hold a file first, e.g. offload_requires = ["nas", "offsite"] under [volumes.${volume}] in ${file}`
    })
  }
}

/** A malformed PATH selector on the command line (exit 2). */
export class SelectorError extends UsageError {
  override name = 'SelectorError' as const
  constructor (readonly selector: string, readonly reason: string) {
    super(selector === '(none)' ? `no PATH given: ${reason}` : `selector ${JSON.stringify(selector)}: ${reason}`,
      selector === '(none)' ? undefined : { hint: 'use volume-relative paths or prefixes; `.` selects the whole volume' })
  }
}

/** An I/O error stopped an unlink after its journal entry was written; the next start finishes or undoes it. */
export class UnlinkInterruptedError extends CairnError {
  override name = 'UnlinkInterruptedError' as const
  constructor (readonly path: string, readonly quarantineName: string, readonly step: string, cause: unknown) {
    super(`the unlink of ${path} stopped at ${step} (${cause instanceof Error ? cause.message : String(cause)}); it may be in its directory as ${quarantineName}`, {
      cause,
      hint: 'the next cairn command puts it back or finishes the unlink (see `cairn runs`)'
    })
  }
}

/** A restore or offload selector names no file of the volume (a typo must not read as success). */
export class SelectorMatchesNothingError extends CairnError {
  override name = 'SelectorMatchesNothingError' as const
  constructor (readonly volume: string, readonly selector: string, readonly closest: readonly string[]) {
    super(`${JSON.stringify(selector)} matches no file of volume ${volume}${closest.length === 0 ? ' (the volume has no indexed files)' : `; closest: ${closest.join(', ')}`}`, { hint: 'selectors are volume-relative paths or directory prefixes; `cairn index` first if the file is new' })
  }
}

/** The hashing pool (src/index/hash-pool.ts) could not take a file: it was closed. */
export class HashWorkerFailedError extends CairnError {
  override name = 'HashWorkerFailedError' as const
  constructor (readonly reason: string) {
    super(`hashing failed: ${reason}`)
  }
}
