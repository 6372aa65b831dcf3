import type { Command } from 'commander'
import { SERVE_NOT_RUNNING } from '../status.js'
import { readNodeStatus } from '../status-report.js'
import { action } from './command.js'
import { formatAge, formatDuration, formatInstant, paint, table } from './output.js'
import { readLiveServeState } from '../serve-state.js'

export function registerStatus (program: Command): void {
  program.command('status')
    .description('one screen: volumes, targets, evidence age and provenance, what blocks offload, peers (exit 1 only for a problem to act on)')
    .option('--json', 'print {node_id, name, ok, problems, serve, volumes, peers}')
    .action(action(async (ctx, opts: { json?: boolean }) => {
      const live = readLiveServeState(ctx.paths.serveState)
      const serve = live === undefined ? SERVE_NOT_RUNNING : { running: true, pid: live.pid, started_at_ns: live.startedAtNs, addrs: live.addrs, http_url: live.httpUrl ?? null }
      const s = await readNodeStatus(ctx.store(), ctx.config(), ctx.clock.nowNs, undefined, serve)
      if (opts.json === true) {
        ctx.out.json(s)
        return s.ok ? 0 : 1
      }
      const c = ctx.out.stdoutIsTty
      const serving = s.serve.running
      const now = ctx.clock.nowNs()
      ctx.out.line(`${paint(c, 'bold', s.name)} ${s.node_id} — ${s.ok ? paint(c, 'green', 'all good') : paint(c, 'red', `${s.problems.length} problem(s) to act on`)}`)
      ctx.out.line(serving
        ? `serve: running (pid ${s.serve.pid ?? '?'}, since ${formatInstant(s.serve.started_at_ns)})${s.serve.http_url === null ? '' : `, status page ${s.serve.http_url}`}`
        : `serve: ${paint(c, 'yellow', 'not running')} — nothing is pulled, answered or run on schedule here; start it with \`cairn serve\`, or as a systemd service (README, "Running \`cairn serve\` under systemd")`)
      for (const v of s.volumes) {
        ctx.out.line('')
        ctx.out.line(`${paint(c, 'bold', `volume ${v.name}`)}  ${v.path}`)
        if (v.identity.problem !== null) ctx.out.line(`  ${paint(c, 'red', 'refused')}: ${v.identity.problem}`)
        ctx.out.line(`  files: ${v.files.present} present, ${v.files.offloaded} offloaded, ${v.files.missing} missing${v.files.conflict > 0 ? `, ${v.files.conflict} in conflict` : ''}; last index ${v.last_index === null ? 'never' : `${formatInstant(v.last_index.at_ns)} (${v.last_index.status})`}`)
        for (const k of v.conflicts.slice(0, 20)) ctx.out.line(`  ${paint(c, 'yellow', 'conflict')}: ${k.path} — kept this node's file (${k.kind}); ${k.pusher} pushed ${k.origin} run ${k.origin_run}`)
        const rows: string[][] = []
        for (const t of v.targets) {
          const role = [t.pushed ? 'push' : '', t.required ? 'required' : ''].filter(x => x !== '').join('+')
          const push = t.last_push === null ? (t.pushed ? 'never pushed' : '-') : `${t.last_push.status} ${formatAge(now, t.last_push.at_ns)} ago`
          if (t.components.length === 0) rows.push([t.label === t.name ? t.name : `${t.name} = ${t.label}`, t.kind, role, '-', 'no evidence', '', push])
          for (const comp of t.components) {
            rows.push([t.label === t.name ? t.name : `${t.name} = ${t.label}`, t.kind, role, `${comp.origin} ≤ ${comp.origin_run}`, comp.verify_method ?? 'unverified', comp.verified_at_ns === null ? 'age unknown' : `${formatAge(now, comp.verified_at_ns)} old, ${comp.provenance}`, push])
          }
        }
        for (const line of table(['TARGET', 'KIND', 'ROLE', 'COVERS', 'METHOD', 'EVIDENCE', 'LAST PUSH'], rows)) ctx.out.line(`  ${line}`)
        if (v.offload.required.length > 0) {
          ctx.out.line(`  offload: ${v.offload.durable} of ${v.offload.present} present files durable on ${v.offload.required.join(' + ')}`)
          for (const g of v.offload.groups) ctx.out.line(`    ${paint(c, 'yellow', `${g.target}: ${g.cause}`)} — ${g.summary}; to clear: ${g.advice}`)
        }
        const scheduled = v.schedules.filter(x => x.kind !== 'rehash' || v.schedules.length > 1)
        if (scheduled.length > 0) {
          const when = (x: typeof scheduled[number]): string => !serving ? `every ${formatDuration(x.every_ms)}` : x.next_at_ns === null ? 'not armed yet' : x.next_at_ns <= now ? 'due now' : `next in ${formatAge(x.next_at_ns, now)}`
          ctx.out.line(`  schedules${serving ? '' : ' (serve is not running: nothing runs on schedule)'}: ${scheduled.map(x => `${x.kind} ${when(x)}${x.last_status === null ? '' : ` (last ${x.last_status})`}`).join(', ')}`)
        }
        for (const w of v.warnings.filter(x => x !== v.identity.problem)) ctx.out.line(`  ${paint(c, 'red', 'problem')}: ${w}`)
        for (const n of v.notes) ctx.out.line(`  note: ${n}`)
      }
      if (s.peers.length > 0) {
        ctx.out.line('')
        ctx.out.line(paint(c, 'bold', 'peers'))
        for (const line of table(['NAME', 'STATUS', 'LAST SEEN', 'LAST PULL', 'NODE ID'], s.peers.map(p => [
          p.name ?? '-', p.status, p.last_seen_ns === null ? 'never' : `${formatAge(now, p.last_seen_ns)} ago`,
          p.last_pull === null ? 'never' : `${p.last_pull.status} ${formatAge(now, p.last_pull.at_ns)} ago${p.last_pull.error === null ? '' : ` (${p.last_pull.error.slice(0, 60)})`}`,
          p.node_id
        ]))) ctx.out.line(`  ${line}`)
        for (const p of s.peers) if (p.problem !== null) ctx.out.line(`  ${paint(c, 'red', 'problem')}: ${p.problem}`)
      }
      return s.ok ? 0 : 1
    }))
}
