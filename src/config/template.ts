/** The commented `cairn.toml` that `cairn init` writes. */
import { DEFAULT_HTTP, DEFAULT_LISTEN, DEFAULT_MDNS, DEFAULT_PULL_EVERY } from './types.js'

export function configTemplate (name: string, listen: string[] = DEFAULT_LISTEN): string {
  const listenToml = listen.map(a => JSON.stringify(a)).join(', ')
  return `# cairn node configuration. Reference: README.md, "Configuration".
# Durations are written like "45s", "10m", "1h30m", "30d" or "2w".

# This node's label. Its identity (the node id) comes from node.key, not from this name.
name   = ${JSON.stringify(name)}

# Addresses the node listens on when \`cairn serve\` runs (TCP multiaddrs).
listen = [${listenToml}]

[serve]
# How often \`cairn serve\` pulls signed durability evidence from every enrolled peer.
pull_every = ${JSON.stringify(DEFAULT_PULL_EVERY)}
# The status page, /api/status and /metrics (Prometheus). "" turns HTTP off. An address other
# than loopback requires the token in http.token (Authorization: Bearer ..., or ?token= once).
http       = ${JSON.stringify(DEFAULT_HTTP)}
# Find enrolled peers' new addresses on the LAN (mDNS). It never enrolls anyone.
mdns       = ${String(DEFAULT_MDNS)}

# A volume is a directory tree that cairn indexes, pushes and may offload.
# The same volume name on two nodes is the same logical data set.
#
# [volumes.photos]
# path                     = "/home/me/Pictures"
# push_to                  = ["nas", "usb"]       # directory destinations or enrolled peers
# offload_requires         = ["nas", "offsite"]   # targets that must prove durability first
# offload_max_evidence_age = "30d"                # optional; absent = no age limit
# index_every              = "1h"                 # what \`cairn serve\` runs by itself; absent = never
# push_every               = "1h"
# verify_every             = "7d"                 # re-read directory destinations, challenge peers
# rehash_every             = "30d"                # a full re-hash instead of the quick index
#                                                 # (default: offload_max_evidence_age, else 30d)

# A directory destination: a USB disk, an NFS mount, a NAS share.
#
# [destinations.usb]
# type = "directory"
# path = "/mnt/usb/cairn"
`
}
