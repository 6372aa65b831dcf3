/**
 * 64 nodes on loopback in one process, each pulling every other once (4,032 pulls), until all
 * hold every node's evidence; baseline: the same merges with envelopes in memory
 * (bench/fleet.ts). Each node is a full libp2p host with its own SQLite database.
 */
import { isQuick } from '../harness.js'
import { runFleet } from '../fleet.js'

await runFleet({ scenario: 'fleet-64', nodes: isQuick() ? 6 : 64, origins: isQuick() ? 10 : 100, runs: isQuick() ? 1 : 5 })
