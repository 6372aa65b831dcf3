import type { Command } from 'commander'
import { UsageError } from '../errors.js'
import { targetIdentity, targetLabel } from '../naming.js'
import { adoptDestination, planAdopt } from '../push/destination-adopt.js'
import { resetDestination } from '../store/revocation.js'
import { action } from './command.js'
import type { CliContext } from './context.js'

function directoryNamed (ctx: CliContext, name: string, recordedToo = false): void {
  const config = ctx.config()
  if (!config.destinations.has(name) && !(recordedToo && ctx.store().destinations.local(name) !== undefined)) {
    throw new UsageError(`${name} is not a [destinations.*] entry of ${config.file}`, { hint: `configured destinations: ${[...config.destinations.keys()].join(', ') || 'none'}` })
  }
}

export function registerDestination (program: Command): void {
  const destination = program.command('destination').description('destination maintenance')

  destination.command('reset <name>')
    .description('forget recorded evidence and identity for a destination (history stays)')
    .option('--dry-run', 'show what would be forgotten and change nothing')
    .option('--yes', 'really forget it')
    .option('--json', 'print {destination, dry_run, components, freshness, run_id}')
    .action(action(async (ctx, name: string, opts: { dryRun?: boolean, yes?: boolean, json?: boolean }) => {
      if (opts.dryRun === true && opts.yes === true) throw new UsageError('--dry-run and --yes contradict each other: pass one')
      // a name that left the config but still holds a marker can be reset too
      directoryNamed(ctx, name, true)
      const store = ctx.store()
      const recorded = store.destinations.local(name)
      const apply = opts.yes === true && opts.dryRun !== true
      if (!apply) {
        const counts = recorded === undefined ? { components: 0, freshness: 0 } : store.vector.countForDestination(recorded.key)
        if (opts.json === true) {
          ctx.out.json({ destination: name, dry_run: true, components: counts.components, freshness: counts.freshness, run_id: null, marker_id: recorded?.markerId ?? null, ...(recorded === undefined ? {} : { key: recorded.key }) })
        } else {
          ctx.out.line(`destination reset ${name} would forget ${counts.components} live component(s) and ${counts.freshness} push-freshness row(s)${recorded === undefined ? '' : ` and the recorded marker ${recorded.markerId}`}; history stays`)
        }
        if (opts.dryRun === true) return 0
        ctx.out.err(`cairn: nothing changed: re-run with --yes to reset ${name} (or --dry-run to only show what it would forget)`)
        return 1
      }
      const audit = ctx.audit('destination reset', { destination: name, marker_id: recorded?.markerId ?? null })
      const r = resetDestination(store, name)
      audit.outcome({ run_id: r.runId, components: r.components, freshness: r.freshness, marker_forgotten: r.markerForgotten })
      if (opts.json === true) {
        ctx.out.json({ destination: name, dry_run: false, components: r.components, freshness: r.freshness, run_id: r.runId, marker_id: r.markerForgotten })
      } else {
        ctx.out.line(`reset ${name}: forgot ${r.components} component(s), ${r.freshness} freshness row(s)${r.markerForgotten === null ? '' : ` and marker ${r.markerForgotten}`} (run ${r.runId}); the next push writes fresh evidence`)
      }
      return 0
    }))

  destination.command('adopt <name>')
    .description('take over a directory whose marker names a revoked (or unknown) former owner, such as this machine before a rebuild; audited')
    .option('--yes', 'really take it over')
    .option('--json', 'print {destination, previous_owner, marker_id, run_id}')
    .action(action(async (ctx, name: string, opts: { yes?: boolean, json?: boolean }) => {
      directoryNamed(ctx, name)
      const store = ctx.store()
      const dest = ctx.config().destinations.get(name)
      if (dest === undefined) return 2
      const plan = await planAdopt(store, dest)
      if (opts.yes !== true) {
        if (opts.json === true) {
          ctx.out.json({ destination: name, previous_owner: plan.previousOwner, previous_marker_id: plan.previousMarkerId, marker_id: null, run_id: null, dry_run: true })
        } else {
          ctx.out.line(`destination adopt ${name} would replace the marker ${plan.previousMarkerId ?? '(none)'} at ${dest.path}, owned by ${plan.previousOwnerLabel}, with a new marker owned by this node`)
          ctx.out.line('nothing is trusted from before: the next push reads every file there again')
        }
        ctx.out.err(`cairn: nothing changed: re-run with --yes to adopt ${name}`)
        return 1
      }
      const audit = ctx.audit('destination adopt', { destination: name, path: dest.path, previous_owner: plan.previousOwnerLabel, previous_owner_node_id: plan.previousOwner, previous_marker_id: plan.previousMarkerId })
      const r = await adoptDestination(store, dest, plan)
      audit.outcome({ run_id: r.runId, marker_id: r.markerId })
      const id = targetIdentity(store, r.key)
      if (opts.json === true) {
        ctx.out.json({ destination: name, previous_owner: plan.previousOwner, previous_marker_id: plan.previousMarkerId, marker_id: r.markerId, run_id: r.runId, key: id.key, label: targetLabel(store, r.key) })
      } else {
        ctx.out.line(`adopted ${name}: marker ${r.markerId} now names this node (was ${plan.previousMarkerId ?? 'none'}, owned by ${plan.previousOwnerLabel}); run ${r.runId}. Push to it to record evidence.`)
      }
      return 0
    }))
}
