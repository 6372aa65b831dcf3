/**
 * The second phase of config validation: names that only make sense against enrollment.
 * `push_to` must name a configured directory destination or an enrolled, live peer.
 * `offload_requires` may name targets only a peer reaches, so any valid name is accepted.
 */
import { ConfigError } from '../errors.js'
import type { Config } from './types.js'

export function checkConfigAgainstPeers (config: Config, livePeerNames: ReadonlySet<string>): void {
  for (const volume of config.volumes.values()) {
    volume.pushTo.forEach((target, i) => {
      if (config.destinations.has(target) || livePeerNames.has(target)) return
      const peers = [...livePeerNames].sort()
      const dests = [...config.destinations.keys()].sort()
      throw new ConfigError(
        config.file,
        `volumes.${volume.name}.push_to[${i}]`,
        `a configured destination (${dests.join(', ') || 'none'}) or an enrolled peer (${peers.join(', ') || 'none'})`,
        JSON.stringify(target)
      )
    })
  }
  for (const peer of livePeerNames) {
    if (config.destinations.has(peer)) {
      throw new ConfigError(config.file, `destinations.${peer}`, `a name different from the enrolled peer ${peer}`, JSON.stringify(peer))
    }
  }
}
