/** The validated, typed form of `cairn.toml`. Everything past the loader sees only this. */

export interface VolumeConfig {
  name: string
  /** Absolute, normalised path of the volume's root directory. */
  path: string
  /** Directory destinations and peer names, in config order, without duplicates. */
  pushTo: string[]
  /** Targets that must hold durable evidence before a file may be offloaded. */
  offloadRequires: string[]
  /** Maximum evidence age for offload; undefined = no age limit. */
  offloadMaxEvidenceAgeMs: number | undefined
  /** What `cairn serve` runs on its own, and how often (docs/schedules.md); absent (a volume built in code): only the default rehash. */
  schedules?: VolumeSchedules
}

/**
 * Per-volume schedules of `cairn serve`. index, push and verify are absent unless configured
 * (absent = never); rehash always has an interval: `rehash_every`, else the volume's
 * `offload_max_evidence_age`, else DEFAULT_REHASH_EVERY.
 */
export interface VolumeSchedules {
  indexEveryMs?: number
  pushEveryMs?: number
  verifyEveryMs?: number
  rehashEveryMs: number
}

/** A full re-hash of a volume's bytes, when neither `rehash_every` nor an age limit says otherwise. */
export const DEFAULT_REHASH_EVERY = '30d'

export interface DirectoryDestinationConfig {
  name: string
  type: 'directory'
  /** Absolute, normalised path of the destination root. */
  path: string
}

export interface ServeConfig {
  pullEveryMs: number
  /**
   * Where `serve` answers HTTP (status page, /api/status, /metrics); null = off. Absent (a
   * config built in code) = off. parseConfig always sets it (default DEFAULT_HTTP).
   */
  http?: HttpListen | null
  /** The bearer token's file for a non-loopback `http` (absolute); absent = `<home>/http.token`. */
  httpTokenFile?: string
  /** Find enrolled peers' addresses on the LAN with mDNS. Absent (a config built in code) = off. */
  mdns?: boolean
}

/** `[serve] http`: a host and a TCP port (0 = any free port). */
export interface HttpListen {
  host: string
  port: number
  /** 127.0.0.0/8, ::1 or localhost: no token is required. */
  loopback: boolean
}

export interface Config {
  /** The file this config was read from (for messages). */
  file: string
  name: string
  listen: string[]
  serve: ServeConfig
  volumes: Map<string, VolumeConfig>
  destinations: Map<string, DirectoryDestinationConfig>
}

export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/4701']
export const DEFAULT_PULL_EVERY = '10m'
export const DEFAULT_HTTP = '127.0.0.1:4780'
export const DEFAULT_MDNS = true
