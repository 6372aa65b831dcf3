/**
 * 16 nodes on loopback, each pulling every other once (240 pulls), until all hold every
 * node's evidence; baseline: the same merges with envelopes in memory (bench/fleet.ts).
 */
import { isQuick } from '../harness.js'
import { runFleet } from '../fleet.js'

await runFleet({ scenario: 'fleet-16', nodes: isQuick() ? 4 : 16, origins: isQuick() ? 10 : 100, runs: isQuick() ? 1 : 5 })
