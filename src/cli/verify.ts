import type { Command } from 'commander'
import { UsageError } from '../errors.js'
import { volumeForRun } from '../naming.js'
import { verifyDirectory } from '../push/verify-directory.js'
import { action } from './command.js'
import { progressBar } from './progress.js'

export function registerVerify (program: Command): void {
  program.command('verify <volume>')
    .description('re-read and re-hash what a directory destination holds for the volume; refresh or refuse evidence')
    .requiredOption('--at <destination>', 'the directory destination to check')
    .option('--json', 'print {run_id, volume, destination, status, checked, mismatched, missing}')
    .action(action(async (ctx, volume: string, opts: { at: string, json?: boolean }) => {
      const store = ctx.store()
      const config = ctx.config()
      const { config: vol } = volumeForRun(store, config, volume)
      const dest = config.destinations.get(opts.at)
      if (dest === undefined) throw new UsageError(`--at ${opts.at}: verify checks directory destinations (configured: ${[...config.destinations.keys()].join(', ') || 'none'}); a peer re-verifies its own copy`)
      const bar = opts.json === true ? undefined : progressBar(ctx, `verify ${volume} at ${opts.at}`, 'files')
      let r
      try {
        r = await verifyDirectory({ store, volume: vol, destination: dest, logger: ctx.logger.forComponent('verify'), onProgress: (d, t) => { bar?.update(d, t) } })
      } finally {
        bar?.stop()
      }
      if (opts.json === true) {
        ctx.out.json({ run_id: r.runId, volume: r.volume, destination: r.destination, status: r.status, checked: r.checked, mismatched: r.mismatched, missing: r.missing, problems: r.problems, reconfirmed: r.reconfirmed, error: r.error })
      } else if (r.status === 'success') {
        ctx.out.line(`verify ${volume} at ${opts.at}: success (run ${r.runId}) — ${r.checked} file(s) re-hashed, ${r.reconfirmed} component(s) re-confirmed`)
      } else {
        ctx.out.err(`cairn: verify ${volume} at ${opts.at}: ${r.status} (run ${r.runId}): ${r.error ?? ''}`)
        for (const p of r.problems.slice(0, 20)) ctx.out.err(`  ${p.problem}: ${p.path}`)
      }
      return r.status === 'success' ? 0 : 1
    }))
}
