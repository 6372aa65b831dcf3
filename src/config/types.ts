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
}

export interface DirectoryDestinationConfig {
  name: string
  type: 'directory'
  /** Absolute, normalised path of the destination root. */
  path: string
}

export interface ServeConfig {
  pullEveryMs: number
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
