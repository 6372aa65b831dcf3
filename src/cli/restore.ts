/**
 * `cairn restore VOLUME [PATH...] --from DEST|PEER|PEER/NAME [--to DIR] [--dry-run]`: brings
 * offloaded files back from a directory destination of this node, from a peer's copy of the
 * volume, or from a directory only a peer reaches (the peer reads it on this node's behalf).
 */
import { resolve } from 'node:path'
import type { Command } from 'commander'
import type { Libp2p } from '@libp2p/interface'
import { PeerRevokedError, UsageError } from '../errors.js'
import { closestTargetName, resolveTarget, volumeForRun } from '../naming.js'
import { restoreFiles } from '../offload/restore.js'
import { parseSelectors } from '../offload/selectors.js'
import { directorySource, type RestoreSource } from '../offload/restore-source.js'
import { peerSource } from '../fetch/peer-source.js'
import { nodeDirectoryFs } from '../push/directory-fs.js'
import type { NodeRow } from '../store/nodes.js'
import { action } from './command.js'
import type { CliContext } from './context.js'

interface RestoreOptions { from: string, to?: string, dryRun?: boolean, json?: boolean }

export function registerRestore (program: Command): void {
  program.command('restore <volume> [paths...]')
    .description('copy offloaded files back from a directory destination or a peer, verify them, mark them present')
    .requiredOption('--from <source>', 'a directory destination, a peer, or PEER/NAME (a directory the peer writes)')
    .option('--to <dir>', 'write the files under this directory instead; nothing in the volume changes')
    .option('--dry-run', 'say which file would come from where; write nothing')
    .option('--json', 'print {run_id, restored, failed}')
    .action(action(async (ctx, volume: string, paths: string[], opts: RestoreOptions) => {
      // a malformed selector is a usage error (exit 2), checked before anything is opened
      parseSelectors(paths.length === 0 ? ['.'] : paths, undefined, 0)
      const store = ctx.store()
      const config = ctx.config()
      const { config: vol } = volumeForRun(store, config, volume)
      let host: Libp2p | undefined
      const source = sourceFor(ctx, opts.from, vol.name, async () => {
        if (host === undefined) {
          const { createClientHost } = await import('../node.js')
          host = await createClientHost(store, ctx.key(), ctx.logger)
        }
        return host
      })
      // a dry run changes nothing and is not logged (src/cli/audit.ts)
      const audit = opts.dryRun === true ? undefined : ctx.audit('restore', { volume, paths, from: opts.from, to: opts.to === undefined ? null : resolve(opts.to) })
      try {
        const r = await restoreFiles({ store, volume: vol, from: source, selectors: paths, logger: ctx.logger.forComponent('restore'), to: opts.to === undefined ? undefined : resolve(opts.to), dryRun: opts.dryRun === true })
        audit?.outcome({ run_id: r.runId, status: r.status, restored: r.restored, failed: r.failed })
        if (opts.json === true) {
          ctx.out.json({
            run_id: r.runId, volume: r.volume, from: r.from, to: r.to, dry_run: r.dryRun, status: r.status, restored: r.restored, failed: r.failed, problems: r.problems,
            planned: r.planned.map(p => ({ path: p.path, size: p.size, source: p.source }))
          })
        } else if (r.dryRun) {
          ctx.out.line(`restore ${volume} from ${opts.from} (dry run): ${r.planned.length} file(s) would be restored to ${r.to}`)
          for (const p of r.planned) ctx.out.line(`  ${p.path} <- ${p.source}`)
        } else {
          ctx.out.line(`restore ${volume} from ${opts.from}${opts.to === undefined ? '' : ` to ${r.to}`}: ${r.status} (run ${r.runId}) — ${r.restored} restored, ${r.failed} failed`)
          if (r.restored > 0 && opts.to === undefined) ctx.out.line('  a restored file may be offloaded again only on evidence that its targets still hold this same version (cairn ls shows where)')
        }
        if (r.failed === 0) return 0
        // why it exits 1, on stderr: one line, then (for a person) each file that failed
        ctx.out.err(`cairn: restore ${volume} from ${opts.from}: ${r.failed} file(s) not restored (run ${r.runId ?? '-'})`)
        if (opts.json !== true) for (const p of r.problems.slice(0, 50)) ctx.out.err(`  failed: ${p.path}: ${p.reason}`)
        return 1
      } finally {
        await host?.stop()
      }
    }))
}

/** `--from`: a directory of this node, a peer, or PEER/NAME; anything else is a usage error naming the closest. */
function sourceFor (ctx: CliContext, from: string, volume: string, host: () => Promise<Libp2p>): RestoreSource {
  const store = ctx.store()
  const config = ctx.config()
  const t = resolveTarget(store, config, from)
  const dest = config.destinations.get(from)
  if (t.kind === 'directory' && dest !== undefined) return directorySource(store, nodeDirectoryFs, dest, volume)
  let pending: { peer: NodeRow, directory: string } | undefined
  if (t.kind === 'peer') pending = { peer: t.node, directory: '' }
  else if (t.kind === 'relayed') pending = { peer: t.via, directory: t.label }
  if (pending === undefined) {
    const near = closestTargetName(store, config, from)
    throw new UsageError(`--from ${from}: not a configured directory destination, a peer, or PEER/NAME${near === null ? '' : ` (did you mean ${near}?)`}`)
  }
  if (pending.peer.revokedAtNs !== null) throw new PeerRevokedError(pending.peer.nodeId, pending.peer.revokedAtNs, pending.peer.name)
  return peerSource({ host, peer: pending.peer, directory: pending.directory, volume, logger: ctx.logger.forComponent('fetch') })
}
