/**
 * 64 nodes on loopback in one process, each pulling every other once (4,032 pulls), until all
 * hold every node's evidence: time and RSS (bench/fleet.ts). Each node is a full libp2p host
 * with its own SQLite database; at most 16 pulls are in flight across the fleet (one event
 * loop). No in-memory baseline beside it: one run takes minutes here, and five pairs would take
 * most of an hour (bench/README.md).
 */
import { isQuick } from '../harness.js'
import { runFleet } from '../fleet.js'

await runFleet({ scenario: 'fleet-64', nodes: isQuick() ? 6 : 64, origins: isQuick() ? 10 : 100, runs: isQuick() ? 1 : 1, maxInFlight: 16, baseline: false })
