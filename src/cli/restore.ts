import type { Command } from 'commander'
import { UsageError } from '../errors.js'
import { volumeForRun } from '../naming.js'
import { restoreFiles } from '../offload/restore.js'
import { action } from './command.js'

export function registerRestore (program: Command): void {
  program.command('restore <volume> [paths...]')
    .description('copy offloaded files back from a directory destination, verify them, mark them present')
    .requiredOption('--from <destination>', 'the directory destination to copy from')
    .option('--json', 'print {run_id, restored, failed}')
    .action(action(async (ctx, volume: string, paths: string[], opts: { from: string, json?: boolean }) => {
      const store = ctx.store()
      const config = ctx.config()
      const { config: vol } = volumeForRun(store, config, volume)
      const from = config.destinations.get(opts.from)
      if (from === undefined) {
        const peer = store.nodes.livePeerByName(opts.from)
        throw new UsageError(peer === undefined
          ? `--from ${opts.from}: not a configured directory destination (configured: ${[...config.destinations.keys()].join(', ') || 'none'})`
          : `--from ${opts.from}: restoring from a peer is not supported yet; restore from a directory destination that holds the volume`)
      }
      const r = await restoreFiles({ store, volume: vol, from, selectors: paths, logger: ctx.logger.forComponent('restore') })
      if (opts.json === true) {
        ctx.out.json({ run_id: r.runId, volume: r.volume, from: r.from, status: r.status, restored: r.restored, failed: r.failed, problems: r.problems })
      } else {
        ctx.out.line(`restore ${volume} from ${opts.from}: ${r.status} (run ${r.runId}) — ${r.restored} restored, ${r.failed} failed`)
        for (const p of r.problems) ctx.out.line(`  failed: ${p.path}: ${p.reason}`)
        if (r.restored > 0) ctx.out.line('  restored files must be pushed again before they can be offloaded again')
      }
      return r.failed > 0 ? 1 : 0
    }))
}
