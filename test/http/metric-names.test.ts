import { describe, expect, it } from 'vitest'
import { namingProblems } from '../../src/http/metric-names.js'

describe('Prometheus naming rules', () => {
  it('accepts names that follow them', () => {
    expect(namingProblems('cairn_push_bytes_total', 'counter', ['volume', 'target'], 'Bytes.')).toEqual([])
    expect(namingProblems('cairn_evidence_age_seconds', 'gauge', ['volume'], 'Age.')).toEqual([])
    expect(namingProblems('cairn_build_info', 'gauge', ['version'], 'Build.')).toEqual([])
  })

  it('names what promtool would refuse', () => {
    expect(namingProblems('libp2p_tcp_inbound_connections_total', 'gauge', [], 'x')).toEqual(['non-counter metrics should not have "_total" suffix'])
    expect(namingProblems('x_runs', 'counter', [], 'x')).toEqual(['counter metrics should have "_total" suffix'])
    expect(namingProblems('libp2p_ping_time_milliseconds', 'gauge', [], 'x')).toEqual(['non-base unit "milliseconds"'])
    expect(namingProblems('x_latency_ms', 'gauge', [], 'x')).toEqual(['abbreviated unit'])
    expect(namingProblems('x_queue_gauge', 'gauge', [], 'x')).toEqual(['type "gauge" in the name'])
    expect(namingProblems('x:y', 'gauge', [], 'x')).toEqual(['colon in the name'])
    expect(namingProblems('x_fooBar', 'gauge', ['peerId'], 'x')).toEqual(['camelCase'])
    expect(namingProblems('x_requests_count', 'gauge', [], 'x')).toEqual(['_count or _sum on a non-histogram'])
    expect(namingProblems('x_things', 'gauge', [], ' ')).toEqual(['no help text'])
  })
})
