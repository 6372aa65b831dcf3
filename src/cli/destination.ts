import type { Command } from 'commander'
import { targetKey, targetLabel } from '../naming.js'
import { resetDestination } from '../store/revocation.js'
import { action } from './command.js'

export function registerDestination (program: Command): void {
  const destination = program.command('destination').description('destination maintenance')

  destination.command('reset <name>')
    .description('forget recorded evidence and identity for a destination (history stays)')
    .option('--dry-run', 'show what would be forgotten and change nothing')
    .option('--yes', 'really forget it')
    .option('--json', 'print {destination, dry_run, components, freshness, run_id}')
    .action(action(async (ctx, name: string, opts: { dryRun?: boolean, yes?: boolean, json?: boolean }) => {
      const store = ctx.store()
      const key = targetKey(store, ctx.config(), name)
      const label = targetLabel(store, key)
      const apply = opts.yes === true && opts.dryRun !== true
      if (!apply) {
        const counts = store.vector.countForDestination(key)
        const marker = store.destinations.get(key)
        if (opts.json === true) {
          ctx.out.json({ destination: label, dry_run: true, components: counts.components, freshness: counts.freshness, run_id: null, marker_id: marker?.markerId ?? null })
        } else {
          ctx.out.line(`destination reset ${label} would forget ${counts.components} live component(s) and ${counts.freshness} push-freshness row(s)${marker === undefined ? '' : ` and the recorded marker ${marker.markerId}`}; history stays`)
          if (opts.dryRun !== true) ctx.out.line('nothing changed: re-run with --yes to reset')
        }
        return opts.dryRun === true ? 0 : 1
      }
      const r = resetDestination(store, key)
      if (opts.json === true) {
        ctx.out.json({ destination: label, dry_run: false, components: r.components, freshness: r.freshness, run_id: r.runId, marker_id: r.markerForgotten })
      } else {
        ctx.out.line(`reset ${label}: forgot ${r.components} component(s), ${r.freshness} freshness row(s)${r.markerForgotten === null ? '' : ` and marker ${r.markerForgotten}`} (run ${r.runId}); the next push writes fresh evidence`)
      }
      return 0
    }))
}
