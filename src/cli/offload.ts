import type { Command } from 'commander'
import { parseDurationMs, DURATION_RULE } from '../config/duration.js'
import { UnknownVolumeError, UsageError } from '../errors.js'
import { offloadVolume, type OffloadReport } from '../offload/offload.js'
import { parseSelectors } from '../offload/selectors.js'
import { action } from './command.js'
import type { CliContext } from './context.js'
import { paint, table } from './output.js'
import { progressBar } from './progress.js'

export function offloadJson (r: OffloadReport): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    volume: r.volume,
    dry_run: r.dryRun,
    run_id: r.runId,
    status: r.status,
    selected: r.selected,
    offloaded: r.offloaded,
    durable: r.durable,
    not_durable: r.notDurable,
    drift: r.drift,
    errors: r.errors,
    groups: r.groups,
    requirements: r.requirements,
    problems: r.problems.map(p => ({ path: p.path, outcome: p.outcome, note: p.note ?? null, kept_as: p.keptAs ?? null })),
    stopped: r.stopped
  }
  if (r.files !== undefined) doc.files = r.files.map(f => ({ path: f.path, outcome: f.outcome, reasons: f.reasons, ...(f.note === undefined ? {} : { note: f.note }), ...(f.keptAs === undefined ? {} : { kept_as: f.keptAs }) }))
  return doc
}

/** The exit code of a report: 1 when a file drifted or failed, or the run stopped. */
function exitCodeOf (r: OffloadReport): number {
  return r.drift + r.errors > 0 || r.stopped !== null ? 1 : 0
}

/** Why an offload exits 1, on stderr: one line, then (for a person) each file left in place. */
function printFailure (ctx: CliContext, r: OffloadReport, detail: boolean): void {
  const parts = [r.drift > 0 ? `${r.drift} file(s) drifted since they were indexed` : '', r.errors > 0 ? `${r.errors} failed` : '', r.stopped === null ? '' : `stopped: ${r.stopped}`].filter(p => p !== '')
  ctx.out.err(`cairn: offload ${r.volume}: ${r.status} (run ${r.runId ?? '-'}): ${parts.join('; ')}${r.drift + r.errors > 0 ? ' (left in place)' : ''}`)
  if (!detail) return
  const colour = ctx.out.stderrIsTty
  for (const p of r.problems.slice(0, 50)) ctx.out.err(`  ${paint(colour, 'red', p.outcome)} ${p.path}: ${p.note ?? ''} (left in place)`)
  if (r.problems.length > 50) ctx.out.err(`  … ${r.problems.length - 50} more (--json lists them all)`)
}

function printHuman (ctx: CliContext, r: OffloadReport): void {
  const colour = ctx.out.stdoutIsTty
  const head = r.dryRun
    ? `offload ${r.volume} (dry run): ${r.selected} selected, ${r.durable} durable everywhere required, ${r.notDurable} not durable`
    : `offload ${r.volume}: ${r.status} (run ${r.runId ?? '?'}) — ${r.selected} selected, ${r.offloaded} offloaded, ${r.notDurable} not durable, ${r.drift} drifted, ${r.errors} failed`
  ctx.out.line(head)
  for (const g of r.groups) {
    ctx.out.line(`  ${paint(colour, 'yellow', `${g.target}: ${g.cause}`)} — ${g.summary}`)
    ctx.out.line(`    e.g. ${g.example_path}: ${g.detail} (${g.provenance})`)
    ctx.out.line(`    to clear: ${g.advice}`)
  }
  if (r.requirements.length > 0) {
    ctx.out.line('')
    for (const line of table(['REQUIRED TARGET', 'SATISFIED', 'BLOCKED'], r.requirements.map(q => [q.target, String(q.satisfied), String(q.blocked)]))) ctx.out.line(`  ${line}`)
  }
  if (r.files !== undefined) {
    ctx.out.line('')
    for (const f of r.files) {
      ctx.out.line(`  ${f.outcome.padEnd(11)} ${f.path}${f.note === undefined ? '' : ` (${f.note})`}`)
      for (const reason of f.reasons) ctx.out.line(`      ${reason.target}: ${reason.cause} — ${reason.detail} (${reason.provenance})`)
    }
  }
}

export function registerOffload (program: Command): void {
  program.command('offload <volume> [paths...]')
    .description('delete local bytes the gate proves durable on every required target (`.` selects the whole volume)')
    .option('--older-than <duration>', 'only files whose mtime is older than this (e.g. 365d)')
    .option('--dry-run', 'report what the gate decides; read no file bytes, write nothing')
    .option('--per-file', 'list every selected file with its outcome and reasons')
    .option('--json', 'print the offload report')
    .action(action(async (ctx, volume: string, paths: string[], opts: { olderThan?: string, dryRun?: boolean, perFile?: boolean, json?: boolean }) => {
      let olderThanMs: number | undefined
      if (opts.olderThan !== undefined) {
        olderThanMs = parseDurationMs(opts.olderThan)
        if (olderThanMs === undefined) throw new UsageError(`--older-than: expected ${DURATION_RULE}, got ${JSON.stringify(opts.olderThan)}`)
      }
      // the command line is checked before anything is opened: no selector, an absolute path
      // or `..` is a usage error (SelectorError, exit 2) whatever the state
      parseSelectors(paths, olderThanMs, 0)
      const store = ctx.store()
      const config = ctx.checkedConfig()
      // looked up without creating anything: a dry run writes nothing
      const vol = config.volumes.get(volume)
      if (vol === undefined) throw new UnknownVolumeError(volume, [...config.volumes.keys()])
      // a dry run changes nothing and is not logged (src/cli/audit.ts)
      const audit = opts.dryRun === true ? undefined : ctx.audit('offload', { volume, paths, older_than_ms: olderThanMs ?? null })
      const bar = opts.json === true || opts.dryRun === true ? undefined : progressBar(ctx, `offload ${volume}`, 'files')
      // a real offload that relies on a peer's custody asks that peer for a hold (DESIGN invariant 29)
      const needsHost = opts.dryRun !== true && store.nodes.listPeers().some(p => p.revokedAtNs === null)
      const host = needsHost ? await (await import('../node.js')).createClientHost(store, ctx.key(), ctx.logger) : undefined
      let r: OffloadReport
      try {
        r = await offloadVolume({
          store, config, volume: vol, selectors: paths, olderThanMs, dryRun: opts.dryRun === true, host, signal: ctx.signal,
          perFile: opts.perFile === true, logger: ctx.logger.forComponent('offload'), onProgress: (d, t) => { bar?.update(d, t) }
        })
      } finally {
        bar?.stop()
        await host?.stop()
      }
      audit?.outcome({ run_id: r.runId, status: r.status, selected: r.selected, offloaded: r.offloaded, not_durable: r.notDurable, drift: r.drift, errors: r.errors, stopped: r.stopped })
      if (opts.json === true) ctx.out.json(offloadJson(r))
      else printHuman(ctx, r)
      const code = exitCodeOf(r)
      if (code !== 0) printFailure(ctx, r, opts.json !== true)
      return code
    }))
}
