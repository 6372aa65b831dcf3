import type { Command } from 'commander'
import { PeerRevokedError, UnknownVolumeError } from '../errors.js'
import type { PullReport } from '../pull/pull.js'
import { action } from './command.js'
import { peerByRef } from './peer.js'

function reportJson (r: PullReport): Record<string, unknown> {
  return {
    run_id: r.runId,
    volume: r.volume,
    peer: r.peer,
    status: r.status,
    error: r.error,
    fetched: r.fetched,
    applied: r.applied,
    changed: r.changed,
    dropped: r.dropped,
    rewinds: r.rewinds,
    rewound: r.rewound,
    drops: r.drops
  }
}

export function registerPull (program: Command): void {
  program.command('pull <peer> [volume]')
    .description('pull a peer\'s signed durability assertion(s) and merge them (default: every volume in cairn.toml)')
    .option('--allow-rewind', 'accept components the peer now asserts lower than recorded (recorded in history)')
    .option('--json', 'print an array of pull reports')
    .action(action(async (ctx, peerRef: string, volume: string | undefined, opts: { allowRewind?: boolean, json?: boolean }) => {
      const store = ctx.store()
      const config = ctx.config()
      const peer = peerByRef(ctx, peerRef)
      if (peer.revokedAtNs !== null) throw new PeerRevokedError(peer.nodeId, peer.revokedAtNs, peer.name)
      const volumes = volume === undefined ? [...config.volumes.keys()] : [volume]
      if (volume !== undefined && !config.volumes.has(volume)) throw new UnknownVolumeError(volume, [...config.volumes.keys()])
      if (volumes.length === 0) throw new UnknownVolumeError('(any)', [])
      const { createClientHost } = await import('../node.js')
      const { pullVolume } = await import('../pull/pull.js')
      // accepting rewinds lowers recorded evidence: audited like `vector rewind`
      const audit = opts.allowRewind === true ? ctx.audit('pull', { peer: peer.name, node_id: peer.nodeId, volumes, allow_rewind: true }) : undefined
      const host = await createClientHost(store, ctx.key(), ctx.logger)
      const reports: PullReport[] = []
      try {
        for (const v of volumes) {
          reports.push(await pullVolume({ store, config, host, peer, volume: v, allowRewind: opts.allowRewind === true, logger: ctx.logger.forComponent('pull') }))
        }
      } finally {
        await host.stop()
      }
      audit?.outcome({ runs: reports.map(r => ({ run_id: r.runId, volume: r.volume, status: r.status, rewound: r.rewound })) })
      if (opts.json === true) ctx.out.json(reports.map(reportJson))
      for (const r of reports) {
        const head = `pull ${r.volume} from ${r.peer}: ${r.status}`
        if (r.status === 'failed' || r.status === 'refused') {
          // a failure is no result: its one line goes to stderr, with --json too
          ctx.out.err(`cairn: ${head} — ${r.error ?? ''} (run ${r.runId}; nothing was written)`)
          continue
        }
        if (r.status !== 'success') ctx.out.err(`cairn: ${head}${r.error === null ? '' : ` — ${r.error}`} (run ${r.runId})`)
        if (opts.json === true) continue
        ctx.out.line(`${head} — fetched ${r.fetched}, applied ${r.applied} (${r.changed} changed), dropped ${r.dropped}, refused rewinds ${r.status === 'partial' ? r.rewinds.length : 0} (run ${r.runId})`)
        for (const d of r.drops) ctx.out.line(`  dropped ${d.kind} for ${d.destination} (origin ${d.origin}): not a target of ${r.volume} here`)
        for (const w of r.rewinds) ctx.out.line(`  ${opts.allowRewind === true ? 'rewound' : 'refused rewind'} ${w.destination} origin ${w.origin}: ${w.current} → ${w.attempted}`)
      }
      return reports.every(r => r.status === 'success') ? 0 : 1
    }))
}
