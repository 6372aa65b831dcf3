/**
 * /metrics of real `cairn serve` processes, after a push, pulls and a live libp2p connection,
 * piped through `promtool check metrics` (Debian's prometheus package): it must exit 0 and
 * complain about nothing, and every family has HELP and TYPE. Without promtool the file says
 * so in one line and skips.
 */
import { execFileSync, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { httpGet } from '../helpers/http.js'
import { startStatusFleet, type StatusFleet } from './status-fleet.js'

function findPromtool (): string | undefined {
  try {
    const found = execFileSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).trim()
    return found === '' ? undefined : found
  } catch {
    return undefined
  }
}

const PROMTOOL = findPromtool()
if (PROMTOOL === undefined) console.log('metrics promtool test skipped: no promtool; install it with `apt-get install prometheus`')

async function promtoolCheck (text: string): Promise<{ code: number | null, output: string }> {
  return await new Promise((resolve, reject) => {
    const child = spawn(PROMTOOL as string, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d: Buffer) => { output += d.toString() })
    child.stderr.on('data', (d: Buffer) => { output += d.toString() })
    const timer = setTimeout(() => { child.kill('SIGKILL') }, 20_000)
    child.on('error', reject)
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, output }) })
    child.stdin.end(text)
  })
}

/** Families by name from the exposition text: their TYPE, whether they have HELP, and the sample names seen. */
function families (text: string): { types: Map<string, string>, helps: Set<string>, samples: Set<string> } {
  const types = new Map<string, string>()
  const helps = new Set<string>()
  const samples = new Set<string>()
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line)
    if (type !== null) { types.set(type[1] ?? '', type[2] ?? ''); continue }
    const help = /^# HELP (\S+) ./.exec(line)
    if (help !== null) { helps.add(help[1] ?? ''); continue }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line)
    if (sample !== null) samples.add(sample[1] ?? '')
  }
  return { types, helps, samples }
}

function familyOf (sample: string, types: Map<string, string>): string | undefined {
  if (types.has(sample)) return sample
  const base = sample.replace(/_(bucket|sum|count|created)$/, '')
  return types.get(base) === 'histogram' || types.get(base) === 'summary' ? base : undefined
}

describe.skipIf(PROMTOOL === undefined)('/metrics of a real serve', () => {
  let fleet: StatusFleet
  let laptopText: string
  let nasText: string

  beforeAll(async () => {
    fleet = await startStatusFleet('cairn-metrics-')
    laptopText = (await httpGet(`${fleet.url}metrics`)).body
    nasText = (await httpGet(`${fleet.nas.httpUrl ?? ''}metrics`)).body
  }, 60_000)

  afterAll(async () => {
    // stopping serve closes the HTTP server and its keep-alive sockets promptly
    const t = performance.now()
    await fleet?.stop()
    expect(performance.now() - t).toBeLessThan(8_000)
  })

  it('passes `promtool check metrics` with no complaint, on the pushing and the receiving node', async () => {
    for (const text of [laptopText, nasText]) {
      const r = await promtoolCheck(text)
      expect(r.output).toBe('')
      expect(r.code).toBe(0)
    }
  })

  it('prints the URL before the listening lines and records it in serve.json', () => {
    const lines = fleet.laptop.stdout().split('\n')
    expect(lines.findIndex(l => l === `http ${fleet.url}`)).toBeLessThan(lines.findIndex(l => l.startsWith('listening ')))
    const state = JSON.parse(readFileSync(join(fleet.laptop.home, 'serve.json'), 'utf8')) as { http_url?: string }
    expect(state.http_url).toBe(fleet.url)
  })

  it('gives every metric family HELP and TYPE', () => {
    for (const text of [laptopText, nasText]) {
      const { types, helps, samples } = families(text)
      expect(types.size).toBeGreaterThan(20)
      expect([...types.keys()].filter(n => !helps.has(n))).toEqual([])
      expect([...helps].filter(n => !types.has(n))).toEqual([])
      expect([...samples].filter(s => familyOf(s, types) === undefined)).toEqual([])
    }
  })

  it('reports evidence, lag, blocked files, push and receive totals, pulls, peers online and libp2p connections', () => {
    expect(laptopText).toMatch(/^cairn_evidence_age_seconds\{volume="photos",target="nas"\} \d+/m)
    expect(laptopText).toContain('cairn_evidence_lag_runs{volume="photos",target="nas"} 1')
    expect(laptopText).toContain('cairn_evidence_lag_runs{volume="photos",target="usb"} 2')
    expect(laptopText).toContain('cairn_offload_blocked_files{volume="photos",target="usb",cause="not-pushed"} 7')
    expect(laptopText).toContain('cairn_push_runs_total{volume="photos",target="nas",status="success"} 1')
    expect(laptopText).toContain('cairn_push_files_total{volume="photos",target="nas"} 6')
    expect(laptopText).toMatch(/^cairn_pull_runs_total\{peer="nas",status="success"\} [1-9]/m)
    expect(laptopText).toContain('cairn_peer_online{peer="nas"} 1')
    expect(laptopText).toContain('cairn_peers_online 1')
    expect(laptopText).toMatch(/^cairn_build_info\{version="[^"]+",node="laptop",node_id="12D3Koo\w+"\} 1$/m)
    expect(nasText).toContain('cairn_receive_files_total{volume="photos",peer="laptop"} 6')
    expect(nasText).toMatch(/^cairn_receive_bytes_total\{volume="photos",peer="laptop"\} [1-9]\d*$/m)
    // libp2p's own metrics, in the same registry
    expect(laptopText).toMatch(/^libp2p_connection_manager_connections\{libp2p_connection_manager_connections="outbound"\} [1-9]/m)
    expect(laptopText).toMatch(/^libp2p_data_transfer_bytes_total/m)
    // labels are names, never paths
    expect(laptopText).not.toContain(fleet.root)
  })
})
