import type { Command } from 'commander'
import { ConfigError, PeerRevokedError } from '../errors.js'
import { nodeLabel, volumeForRun } from '../naming.js'
import { pushToDirectory } from '../push/directory-push.js'
import type { PushReport } from '../push/push-report.js'
import { action, collect } from './command.js'
import type { CliContext } from './context.js'
import { formatBytes } from './output.js'
import { progressBar } from './progress.js'

function reportJson (ctx: CliContext, r: PushReport): Record<string, unknown> {
  const store = ctx.store()
  return {
    run_id: r.runId,
    volume: r.volume,
    destination: r.destination,
    status: r.status,
    files_sent: r.filesSent,
    bytes_sent: r.bytesSent,
    files_skipped: r.filesSkipped,
    method: r.method,
    advanced: r.advanced.map(a => {
      const n = store.nodes.byRowId(a.originNodeId)
      return { origin: nodeLabel(n, n?.nodeId ?? '?'), origin_node_id: n?.nodeId ?? null, origin_run: a.originRunId }
    }),
    failures: r.failures,
    error: r.error
  }
}

export function registerPush (program: Command): void {
  program.command('push <volume>')
    .description('push a volume to its destinations and peers (default: every push_to target)')
    .option('--to <name>', 'a destination or peer to push to (repeatable)', collect)
    .option('--shallow', 'check presence and size only (records presence+size, which never opens the offload gate)')
    .option('--json', 'print an array of push reports')
    .action(action(async (ctx, volume: string, opts: { to?: string[], shallow?: boolean, json?: boolean }) => {
      const store = ctx.store()
      const config = ctx.checkedConfig()
      const { config: vol } = volumeForRun(store, config, volume)
      const targets = opts.to ?? vol.pushTo
      if (targets.length === 0) throw new ConfigError(config.file, `volumes.${volume}.push_to`, 'at least one target (or pass --to NAME)', '[]')
      // every target is resolved before anything is pushed
      const resolved = targets.map(target => {
        const dest = config.destinations.get(target)
        if (dest !== undefined) return { target, dest, peer: undefined }
        const peer = store.nodes.livePeerByName(target)
        if (peer === undefined || peer.isSelf || peer.enrolledAtNs === null) {
          const revoked = store.nodes.listPeers().find(p => p.name === target && p.revokedAtNs !== null)
          if (revoked !== undefined) throw new PeerRevokedError(revoked.nodeId, revoked.revokedAtNs ?? 0, revoked.name)
          const where = opts.to === undefined ? `volumes.${volume}.push_to` : '--to'
          throw new ConfigError(config.file, where, `a configured destination (${[...config.destinations.keys()].join(', ') || 'none'}) or an enrolled peer (${[...store.nodes.livePeerNames()].join(', ') || 'none'})`, JSON.stringify(target))
        }
        if (peer.revokedAtNs !== null) throw new PeerRevokedError(peer.nodeId, peer.revokedAtNs, peer.name)
        return { target, dest: undefined, peer }
      })
      const reports: PushReport[] = []
      for (const { target, dest, peer } of resolved) {
        if (ctx.signal.aborted) break
        if (dest !== undefined) {
          const bar = opts.json === true ? undefined : progressBar(ctx, `push ${volume} → ${target}`, 'bytes')
          try {
            reports.push(await pushToDirectory({ store, volume: vol, destination: dest, shallow: opts.shallow === true, signal: ctx.signal, configured: (n) => config.destinations.has(n), logger: ctx.logger.forComponent('push'), onProgress: (p) => { bar?.update(p.bytesSent, p.bytesTotal) } }))
          } finally {
            bar?.stop()
          }
        } else if (peer !== undefined) {
          const { pushToPeerFromCli } = await import('./push-peer.js')
          reports.push(await pushToPeerFromCli(ctx, vol, peer, opts.shallow === true, opts.json === true))
        }
      }
      if (opts.json === true) ctx.out.json(reports.map(r => reportJson(ctx, r)))
      for (const r of reports) {
        const head = `push ${r.volume} → ${r.destination}: ${r.status} (run ${r.runId})`
        if (r.status === 'refused' || r.status === 'failed' || r.status === 'aborted') {
          // a failure is no result: its one line goes to stderr, with --json too
          ctx.out.err(`cairn: ${head}: ${r.error ?? ''}`)
          continue
        }
        if (r.status === 'partial') {
          ctx.out.err(`cairn: ${head}: ${r.failures.length} file(s) not placed; the evidence covers only what was placed, push again once the failures are fixed`)
          if (opts.json !== true) for (const f of r.failures.slice(0, 20)) ctx.out.err(`  failed: ${f.path}: ${f.reason}`)
        }
        if (opts.json === true) continue
        ctx.out.line(`${head} — ${r.filesSent} file(s) sent (${formatBytes(r.bytesSent)}), ${r.filesSkipped} already there, method ${r.method}`)
        const json = reportJson(ctx, r) as { advanced: Array<{ origin: string, origin_run: number }> }
        for (const a of json.advanced) ctx.out.line(`  evidence: ${r.destination} holds ${r.volume} from ${a.origin} through run ${a.origin_run}`)
      }
      return reports.every(r => r.status === 'success') ? 0 : 1
    }))
}

