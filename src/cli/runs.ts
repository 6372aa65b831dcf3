import type { Command } from 'commander'
import type { Run } from '../store/runs.js'
import { action, positiveInt } from './command.js'
import type { CliContext } from './context.js'
import { formatInstant, table } from './output.js'
import { targetLabel } from '../naming.js'

export function runJson (ctx: CliContext, r: Run): Record<string, unknown> {
  return {
    id: r.id,
    kind: r.kind,
    volume: r.volume,
    destination: r.destination === null ? null : targetLabel(ctx.store(), r.destination),
    peer: r.peer,
    status: r.status,
    started_at_ns: r.startedAtNs,
    ended_at_ns: r.endedAtNs,
    error: r.error,
    file_count: r.fileCount,
    byte_count: r.byteCount,
    detail: r.detail
  }
}

export function registerRuns (program: Command): void {
  program.command('runs')
    .description('recorded runs, newest first')
    .option('--volume <volume>', 'only runs of this volume')
    .option('--limit <n>', 'at most this many runs (default 50)', positiveInt('--limit'))
    .option('--json', 'print an array of runs')
    .action(action(async (ctx, opts: { volume?: string, limit?: number, json?: boolean }) => {
      const store = ctx.store()
      let volumeId: number | undefined
      if (opts.volume !== undefined) {
        const v = store.volumes.get(opts.volume)
        if (v === undefined) {
          if (opts.json === true) ctx.out.json([])
          else ctx.out.line(`no runs recorded for volume ${opts.volume}`)
          return 0
        }
        volumeId = v.id
      }
      const runs = store.runs.list({ volumeId, limit: opts.limit ?? 50 })
      if (opts.json === true) {
        ctx.out.json(runs.map(r => runJson(ctx, r)))
        return 0
      }
      if (runs.length === 0) {
        ctx.out.line('no runs recorded yet')
        return 0
      }
      const rows = runs.map(r => [
        // a recovery of interrupted unlinks is an offload run (src/offload/unlink-recovery.ts)
        String(r.id), r.kind === 'offload' && r.detail.recovery === true ? 'offload (recovery)' : r.kind, r.volume ?? '-',
        r.destination === null ? (r.peer ?? '-') : targetLabel(ctx.store(), r.destination),
        r.status, formatInstant(r.startedAtNs), r.fileCount > 0 ? String(r.fileCount) : '-', r.error ?? ''
      ])
      for (const line of table(['ID', 'KIND', 'VOLUME', 'TARGET', 'STATUS', 'STARTED', 'FILES', 'ERROR'], rows)) ctx.out.line(line)
      return 0
    }))
}
