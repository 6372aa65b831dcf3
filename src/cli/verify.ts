import type { Command } from 'commander'
import { ConfigError, PeerRevokedError, UsageError } from '../errors.js'
import { volumeForRun } from '../naming.js'
import { MAX_VERIFY_SAMPLE } from '../protocol/limits.js'
import { verifyDirectory, type VerifyReport } from '../push/verify-directory.js'
import { action } from './command.js'
import type { CliContext } from './context.js'
import { progressBar } from './progress.js'

function sampleOption (value: string | undefined): number {
  if (value === undefined) return 0
  if (!/^[0-9]+$/.test(value) || Number(value) < 1 || Number(value) > MAX_VERIFY_SAMPLE) throw new UsageError(`--sample ${value}: expected a number of files from 1 to ${MAX_VERIFY_SAMPLE} (e.g. --sample 100)`)
  return Number(value)
}

function print (ctx: CliContext, r: VerifyReport & { peerRun?: number, retracted?: number }, volume: string, at: string, json: boolean): number {
  // a failure's one line goes to stderr, with --json too (beside the JSON report on stdout)
  if (json && r.status !== 'success') ctx.out.err(`cairn: verify ${volume} at ${at}: ${r.status} (run ${r.runId}): ${r.error ?? `${r.mismatched} mismatched, ${r.missing} missing`}`)
  if (json) {
    ctx.out.json({
      run_id: r.runId, volume: r.volume, destination: r.destination, status: r.status, checked: r.checked, mismatched: r.mismatched, missing: r.missing,
      problems: r.problems, reconfirmed: r.reconfirmed, error: r.error,
      ...(r.peerRun === undefined ? {} : { peer_run: r.peerRun, retracted: r.retracted ?? 0 })
    })
  } else if (r.status === 'success') {
    ctx.out.line(r.peerRun === undefined
      ? `verify ${volume} at ${at}: success (run ${r.runId}) — ${r.checked} file(s) re-hashed, ${r.reconfirmed} component(s) re-confirmed`
      : `verify ${volume} at ${at}: success (run ${r.runId}) — ${at} re-hashed ${r.checked} file(s) (its run ${r.peerRun}) and signed a fresh assertion`)
  } else {
    ctx.out.err(`cairn: verify ${volume} at ${at}: ${r.status} (run ${r.runId}): ${r.error ?? ''}`)
    for (const p of r.problems.slice(0, 20)) ctx.out.err(`  ${p.problem}: ${p.path}`)
    if (r.peerRun !== undefined && r.problems.length > 0) ctx.out.err(`  the next push to ${at} sends them again: \`cairn push ${volume} --to ${at}\``)
  }
  return r.status === 'success' ? 0 : 1
}

export function registerVerify (program: Command): void {
  program.command('verify <volume>')
    .description('re-read and re-hash what a directory destination holds, or ask a peer to re-hash what it holds and sign a fresh receipt; refresh or retract evidence')
    .requiredOption('--at <target>', 'a directory destination, or a peer this node pushes the volume to')
    .option('--sample <n>', `re-read only N files, drawn at random weighted by bytes (1..${MAX_VERIFY_SAMPLE})`)
    .option('--json', 'print {run_id, volume, destination, status, checked, mismatched, missing}')
    .action(action(async (ctx, volume: string, opts: { at: string, sample?: string, json?: boolean }) => {
      // usage first, whatever the state (docs/logs.md)
      const sample = sampleOption(opts.sample)
      const store = ctx.store()
      const config = ctx.config()
      const { config: vol } = volumeForRun(store, config, volume)
      const json = opts.json === true
      const dest = config.destinations.get(opts.at)
      if (dest !== undefined) {
        const bar = json ? undefined : progressBar(ctx, `verify ${volume} at ${opts.at}`, 'files')
        try {
          const r = await verifyDirectory({ store, volume: vol, destination: dest, sample, logger: ctx.logger.forComponent('verify'), onProgress: (d, t) => { bar?.update(d, t) } })
          return print(ctx, r, volume, opts.at, json)
        } finally {
          bar?.stop()
        }
      }
      const peer = store.nodes.livePeerByName(opts.at)
      if (peer === undefined || peer.isSelf || peer.enrolledAtNs === null) {
        const revoked = store.nodes.listPeers().find(p => p.name === opts.at && p.revokedAtNs !== null)
        if (revoked !== undefined) throw new PeerRevokedError(revoked.nodeId, revoked.revokedAtNs ?? 0, revoked.name)
        if (opts.at.includes('/')) throw new UsageError(`--at ${opts.at}: a directory only a peer reaches is verified by that peer (on it: \`cairn verify ${volume} --at ${opts.at.slice(opts.at.indexOf('/') + 1)}\`, or its verify_every); here, \`--at ${opts.at.slice(0, opts.at.indexOf('/'))}\` re-reads the peer's own copy`)
        throw new ConfigError(config.file, '--at', `a configured directory destination (${[...config.destinations.keys()].join(', ') || 'none'}) or an enrolled peer (${[...store.nodes.livePeerNames()].join(', ') || 'none'})`, JSON.stringify(opts.at))
      }
      const { createClientHost } = await import('../node.js')
      const { verifyPeer } = await import('../verify/verify-peer.js')
      const host = await createClientHost(store, ctx.key(), ctx.logger)
      const bar = json ? undefined : progressBar(ctx, `verify ${volume} at ${opts.at}`, 'files')
      try {
        const r = await verifyPeer({ store, config, host, volume: vol, peer, sample, signal: ctx.signal, logger: ctx.logger.forComponent('verify'), onProgress: (checked) => { bar?.update(checked, Math.max(checked, sample)) } })
        return print(ctx, r, volume, opts.at, json)
      } finally {
        bar?.stop()
        await host.stop()
      }
    }))
}
