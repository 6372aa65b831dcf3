import type { Command } from 'commander'
import { volumeForRun } from '../naming.js'
import { parseSelectors } from '../offload/selectors.js'
import { whereIs } from '../offload/where.js'
import { action } from './command.js'
import { formatAge, formatBytes, table } from './output.js'

export function registerLs (program: Command): void {
  program.command('ls <volume> [paths...]')
    .description('files with their status and the targets that hold them (the offload gate decides "holds")')
    .option('--offloaded', 'only offloaded files')
    .option('--json', 'print [{path, status, size, hash, origin, origin_run, held_by: [{target, verify_method, verified_at_ns, source}], not_held_by}]')
    .action(action(async (ctx, volume: string, paths: string[], opts: { offloaded?: boolean, json?: boolean }) => {
      const store = ctx.store()
      const config = ctx.config()
      const { config: vol } = volumeForRun(store, config, volume)
      const now = ctx.clock.nowNs()
      const entries = whereIs(store, config, vol, parseSelectors(paths.length === 0 ? ['.'] : paths, undefined, now), { offloadedOnly: opts.offloaded === true, nowNs: now })
      if (opts.json === true) {
        ctx.out.json(entries)
        return 0
      }
      if (entries.length === 0) {
        ctx.out.line(`no ${opts.offloaded === true ? 'offloaded ' : ''}files in ${volume}${paths.length > 0 ? ` under ${paths.join(', ')}` : ''}`)
        return 0
      }
      const rows = entries.map(e => [
        e.path, e.status, formatBytes(e.size),
        e.held_by.length === 0 ? '-' : e.held_by.map(h => `${h.target} (${h.verify_method ?? '?'}, ${h.verified_at_ns === null ? 'age unknown' : `${formatAge(now, h.verified_at_ns)} old`}${h.source === 'local' ? '' : `, says ${h.source}`})`).join(', '),
        e.not_held_by.map(n => `${n.target}: ${n.cause}`).join(', ')
      ])
      for (const line of table(['PATH', 'STATUS', 'SIZE', 'HELD BY', 'NOT HELD BY'], rows)) ctx.out.line(line)
      const unheld = entries.filter(e => e.status === 'offloaded' && e.held_by.length === 0).length
      if (unheld > 0) ctx.out.line(`warning: ${unheld} offloaded file(s) held by no target on current evidence`)
      return 0
    }))
}
