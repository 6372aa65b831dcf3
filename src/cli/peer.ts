import type { Command } from 'commander'
import { paint } from './output.js'
import { action, collectMultiaddr } from './command.js'
import type { CliContext } from './context.js'
import { formatAge, formatInstant, table } from './output.js'
import { CairnError, PeerAlreadyEnrolledError, UnknownNodeError, UsageError } from '../errors.js'
import { isNodeId, parseNodeId, type NodeId } from '../identity/node-id.js'
import { isValidName, NAME_RULE } from '../names.js'
import { decodeInvite, looksLikeInvite } from '../p2p/invite.js'
import { enrollSigner, PeerAlreadyRevokedError, revokeSource } from '../store/revocation.js'
import type { NodeRow } from '../store/nodes.js'
import { revocationImpact } from '../offload/impact.js'

function peerJson (p: NodeRow): Record<string, unknown> {
  return { name: p.name, node_id: p.nodeId, addrs: p.addrs, status: p.revokedAtNs === null ? 'enrolled' : 'revoked', enrolled_at_ns: p.enrolledAtNs, revoked_at_ns: p.revokedAtNs, last_seen_ns: p.lastSeenNs }
}

/** The enrolled peer an operator named: a live peer's name, a node id, or a revoked peer's name. */
export function peerByRef (ctx: CliContext, ref: string): NodeRow {
  const store = ctx.store()
  const live = store.nodes.livePeerByName(ref)
  if (live !== undefined) return live
  if (isNodeId(ref)) {
    const byId = store.nodes.byNodeId(ref)
    if (byId !== undefined && !byId.isSelf && byId.enrolledAtNs !== null) return byId
  }
  const revoked = store.nodes.listPeers().filter(p => p.name === ref).at(-1)
  if (revoked !== undefined) return revoked
  throw new UnknownNodeError(ref)
}

/** NODE_ID or INVITE as typed: a malformed one is a usage error (exit 2), with its reason and hint. */
function parseTarget (target: string): { nodeId: NodeId, addrs: string[] } {
  try {
    if (looksLikeInvite(target)) return decodeInvite(target)
    return { nodeId: parseNodeId(target).nodeId, addrs: [] }
  } catch (err) {
    if (!(err instanceof CairnError)) throw err
    const hint = err.hint ?? (looksLikeInvite(target) ? undefined : 'pass the node id `cairn id` prints on that node, or its whole invite')
    throw new UsageError(`${looksLikeInvite(target) ? 'INVITE' : 'NODE_ID'}: ${err.message}`, { cause: err, ...(hint === undefined ? {} : { hint }) })
  }
}

export function registerPeer (program: Command): void {
  const peer = program.command('peer').description('enroll, list and revoke peers')

  peer.command('add <name> <nodeIdOrInvite>')
    .description('enroll a peer by node id (with --addr) or by the invite `cairn id` printed on it; its key is pinned')
    .option('--addr <multiaddr>', 'an address to reach it, e.g. /ip4/192.168.1.5/tcp/4701 (repeatable)', collectMultiaddr('--addr', true))
    .option('--re-enroll', 'trust a node id that was revoked again (recorded as a run)')
    .option('--json', 'print {name, node_id, addrs}')
    .action(action(async (ctx, name: string, target: string, opts: { addr?: string[], reEnroll?: boolean, json?: boolean }) => {
      if (!isValidName(name)) throw new UsageError(`NAME: expected ${NAME_RULE}, got ${JSON.stringify(name)}`)
      const parsed = parseTarget(target)
      const nodeId = parsed.nodeId
      const addrs = [...new Set([...parsed.addrs, ...(opts.addr ?? [])])]
      const store = ctx.store()
      const config = ctx.config()
      if (nodeId === ctx.key().nodeId) throw new UsageError(`that node id is this node itself (${config.name})`)
      if (config.destinations.has(name)) throw new UsageError(`${name} already names a directory destination in cairn.toml; choose another name`)
      const audit = ctx.audit('peer add', { peer: name, node_id: nodeId, addrs, re_enroll: opts.reEnroll === true })
      const existing = store.nodes.byNodeId(nodeId)
      let row: NodeRow
      let verb = 'enrolled'
      if (existing !== undefined && existing.enrolledAtNs !== null && existing.revokedAtNs === null) {
        if (existing.name !== name) throw new PeerAlreadyEnrolledError(nodeId, existing.name)
        store.nodes.updateAddrs(existing.id, addrs.length > 0 ? addrs : existing.pinnedAddrs)
        row = store.nodes.byRowId(existing.id) as NodeRow
        verb = 'updated'
      } else {
        const reEnroll = opts.reEnroll === true && existing?.revokedAtNs != null
        // a re-enrollment also resets the peer's sequence watermarks (audited in the run)
        row = enrollSigner(store, nodeId, name, addrs, reEnroll).row
        if (reEnroll) verb = 're-enrolled'
      }
      audit.outcome({ result: verb, addrs: row.addrs })
      if (opts.json === true) {
        ctx.out.json({ name: row.name, node_id: row.nodeId, addrs: row.addrs })
      } else {
        ctx.out.line(`${verb} peer ${name} (${row.nodeId})`)
        for (const a of row.addrs) ctx.out.line(`  addr ${a}`)
        if (row.addrs.length === 0) ctx.out.line('  no address: this node cannot dial it (it can still dial this node)')
      }
      return 0
    }))

  peer.command('list')
    .description('enrolled peers, live and revoked')
    .option('--json', 'print an array of peers')
    .action(action(async (ctx, opts: { json?: boolean }) => {
      const peers = ctx.store().nodes.listPeers()
      if (opts.json === true) {
        ctx.out.json(peers.map(peerJson))
        return 0
      }
      if (peers.length === 0) {
        ctx.out.line('no peers enrolled yet (`cairn peer add NAME INVITE`)')
        return 0
      }
      const now = ctx.clock.nowNs()
      for (const line of table(['NAME', 'STATUS', 'LAST SEEN', 'NODE ID', 'ENROLLED', 'ADDRESSES'], peers.map(p => [
        p.name ?? '-', p.revokedAtNs === null ? 'enrolled' : `revoked ${formatInstant(p.revokedAtNs)}`,
        p.lastSeenNs === null ? 'never' : `${formatAge(now, p.lastSeenNs)} ago`, p.nodeId, formatInstant(p.enrolledAtNs), p.addrs.join(' ')
      ]))) ctx.out.line(line)
      return 0
    }))

  peer.command('pending')
    .description('nodes that tried to connect without being enrolled (refused by the connection gate while `serve` ran)')
    .option('--json', 'print [{node_id, addrs, first_seen_ns, last_seen_ns, attempts, known_as, revoked}]')
    .action(action(async (ctx, opts: { json?: boolean }) => {
      const store = ctx.store()
      const pending = store.pendingPeers.list().map(p => {
        const known = store.nodes.byNodeId(p.nodeId)
        return { ...p, knownAs: known?.name ?? null, revoked: known?.revokedAtNs != null }
      })
      if (opts.json === true) {
        ctx.out.json(pending.map(p => ({ node_id: p.nodeId, addrs: p.addrs, first_seen_ns: p.firstSeenNs, last_seen_ns: p.lastSeenNs, attempts: p.attempts, known_as: p.knownAs, revoked: p.revoked })))
        return 0
      }
      if (pending.length === 0) {
        ctx.out.line('no refused connections recorded (a node that is not enrolled here shows up once it tries to connect while `cairn serve` runs)')
        return 0
      }
      const now = ctx.clock.nowNs()
      for (const line of table(['NODE ID', 'LAST TRIED', 'ATTEMPTS', 'FROM', 'NOTE'], pending.map(p => [
        p.nodeId, `${formatAge(now, p.lastSeenNs)} ago`, String(p.attempts), p.addrs[0] ?? '-',
        p.revoked ? `revoked peer ${p.knownAs ?? ''}`.trim() : p.knownAs === null ? '' : `known as ${p.knownAs}`
      ]))) ctx.out.line(line)
      ctx.out.line('')
      ctx.out.line('to enroll one: get its invite (`cairn id` on it) and run `cairn peer add NAME INVITE` here; a node id alone also works with --addr')
      return 0
    }))

  peer.command('revoke <name>')
    .description('drop every live piece of evidence a peer asserted and refuse its key from now on')
    .option('--dry-run', 'show the impact and change nothing (exit 0)')
    .option('--yes', 'really revoke')
    .option('--json', 'print {peer, node_id, dry_run, components_dropped, freshness_dropped, files_losing_gate, run_id}')
    .action(action(async (ctx, name: string, opts: { dryRun?: boolean, yes?: boolean, json?: boolean }) => {
      if (opts.dryRun === true && opts.yes === true) throw new UsageError('--dry-run and --yes contradict each other: pass one')
      const store = ctx.store()
      const target = peerByRef(ctx, name)
      if (target.revokedAtNs !== null) throw new PeerAlreadyRevokedError(target.nodeId, target.revokedAtNs, target.name)
      const impact = revocationImpact(store, ctx.config(), target, ctx.clock.nowNs())
      const apply = opts.yes === true && opts.dryRun !== true
      let runId: number | null = null
      if (apply) {
        const audit = ctx.audit('peer revoke', { peer: target.name, node_id: target.nodeId, components: impact.components, freshness: impact.freshness, files_losing_gate: impact.filesLosingGate })
        const r = revokeSource(store, target.id)
        runId = r.runId
        audit.outcome({ run_id: r.runId, components_dropped: r.componentsDropped, freshness_dropped: r.freshnessDropped })
      }
      const doc = {
        peer: target.name,
        node_id: target.nodeId,
        dry_run: !apply,
        components_dropped: impact.components,
        freshness_dropped: impact.freshness,
        files_losing_gate: impact.filesLosingGate,
        offloaded_at_risk: impact.offloadedAtRisk,
        run_id: runId,
        volumes: impact.volumes
      }
      if (opts.json === true) {
        ctx.out.json(doc)
      } else {
        ctx.out.line(`${apply ? 'revoked' : 'revoking'} peer ${target.name ?? target.nodeId} (${target.nodeId})${apply ? '' : ' would'}:`)
        ctx.out.line(`  drop ${impact.components} live component(s) and ${impact.freshness} push-freshness row(s) it asserted`)
        for (const v of impact.volumes) ctx.out.line(`    ${v.volume}: ${v.components} component(s), ${v.freshness} freshness row(s)`)
        for (const f of impact.filesLosingGate) ctx.out.line(`  ${f.volume}: ${f.files} file(s) ${apply ? 'lost' : 'would lose'} their offload gate`)
        if (impact.filesLosingGate.length === 0) ctx.out.line('  no file that passes the offload gate now depends on its evidence')
        const risk = impact.offloadedAtRisk
        if (risk.length > 0) {
          const n = risk.reduce((k, g) => k + g.files, 0)
          ctx.out.line(`  ${paint(ctx.out.stdoutIsTty, 'yellow', 'at risk')}: ${n} offloaded file(s) ${apply ? 'now have' : 'would have'} no evidence on any trusted target:`)
          for (const g of risk.slice(0, 50)) ctx.out.line(`    ${g.volume}/${g.directory === '.' ? '' : g.directory + '/'} — ${g.files} file(s): ${g.command}`)
          if (risk.length > 50) ctx.out.line(`    … ${risk.length - 50} more director(ies) (--json lists them all)`)
        }
        ctx.out.line(`  refuse its key at the connection gate and in every later assertion or receipt`)
        ctx.out.line('  local evidence, other peers\' evidence and all history stay')
        if (apply) ctx.out.line(`done (run ${runId ?? '?'})`)
      }
      if (apply || opts.dryRun === true) return 0
      // the refusal, on stderr: the impact above is the result, this is why nothing happened
      ctx.out.err(`cairn: nothing changed: re-run with --yes to revoke ${target.name ?? target.nodeId} (or --dry-run to only show the impact)`)
      return 1
    }))
}
