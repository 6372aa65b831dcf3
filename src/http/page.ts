/**
 * The status page: one HTML document rendered on the server, complete without JavaScript
 * (it has none), refreshed by a meta refresh, its CSS inline, nothing loaded from elsewhere.
 * Every value from the config, the store or a peer is escaped by `html`. Elements carry
 * stable `id`s and `data-*` attributes (docs/http.md) so tests and scrapers can read them.
 */
import { formatAge, formatBytes, formatInstant } from '../cli/output.js'
import type { TargetStatus, VolumeStatus } from '../status.js'
import type { Run } from '../store/runs.js'
import { constantHtml, html, type Html } from './html.js'
import type { TargetLag } from './lag.js'
import type { PageView, PeerImpact } from './view.js'

/** How often the page reloads itself. */
export const PAGE_REFRESH_S = 10

const CSS = `
:root { color-scheme: light dark; --fg: #1d1f21; --bg: #fafafa; --muted: #666; --line: #ddd; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --card: #fff; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e6e6; --bg: #15171a; --muted: #9aa0a6; --line: #33373d; --ok: #3fb950; --warn: #d29922; --bad: #f85149; --card: #1c1f23; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header, main, footer { max-width: 1200px; margin: 0 auto; padding: 12px 20px; }
header h1 { display: inline; font-size: 22px; margin: 0 10px 0 0; }
h2 { font-size: 17px; margin: 22px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 0 0 6px; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.muted { color: var(--muted); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; vertical-align: middle; }
.badge.ok { background: var(--ok); } .badge.warn { background: var(--warn); } .badge.bad { background: var(--bad); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; margin: 10px 0; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
ul { margin: 6px 0; padding-left: 20px; }
.group .cause { color: var(--warn); font-weight: 600; }
.warning { color: var(--bad); }
.online { color: var(--ok); font-weight: 600; } .offline { color: var(--muted); }
.st-success { color: var(--ok); } .st-failed, .st-refused { color: var(--bad); } .st-partial, .st-aborted, .st-running { color: var(--warn); }
`

const PLURAL = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`

function ageOf (t: TargetStatus): number | null {
  const known = t.components.map(c => c.age_s).filter((a): a is number => a !== null)
  return known.length === 0 ? null : Math.max(...known)
}

function targetRow (v: VolumeStatus, t: TargetStatus, lag: TargetLag | undefined, nowNs: number): Html {
  const role = [t.pushed ? 'push' : '', t.required ? 'required' : ''].filter(x => x !== '').join(' + ')
  const age = ageOf(t)
  const push = t.last_push === null ? (t.pushed ? 'never pushed' : '-') : `${t.last_push.status} ${formatAge(nowNs, t.last_push.at_ns)} ago`
  const covers = t.components.length === 0
    ? html`<span class="muted">no evidence</span>`
    : t.components.map(c => html`<div class="component" data-origin="${c.origin}" data-origin-run="${c.origin_run}">${c.origin} ≤ run ${c.origin_run} · ${c.verify_method ?? 'unverified'} · ${c.verified_at_ns === null ? 'age unknown' : `${formatAge(nowNs, c.verified_at_ns)} old`} · ${c.provenance}</div>`)
  return html`<tr class="target" data-volume="${v.name}" data-target="${t.name}" data-kind="${t.kind}" data-components="${t.components.length}" data-age-s="${age ?? ''}" data-lag="${lag?.runs_behind ?? ''}">
<td><strong>${t.name}</strong>${t.label === t.name ? '' : html` <span class="muted">${t.label}</span>`}</td>
<td>${t.kind}</td><td>${role}</td><td>${covers}</td>
<td class="num">${age === null ? 'unknown' : formatAge(nowNs, nowNs - age * 1e9)}</td>
<td class="num" title="${lag === undefined ? '' : `covers run ${lag.covered_run}; newest index run with changes: ${lag.latest_run ?? 'none'}`}">${lag === undefined ? '-' : `${PLURAL(lag.runs_behind, 'run')} behind`}</td>
<td>${push}</td></tr>`
}

function volumeCard (v: VolumeStatus, lag: Map<string, TargetLag> | undefined, nowNs: number, index: number): Html {
  const groups = v.offload.groups.map(g => html`<li class="group" data-target="${g.target}" data-cause="${g.cause}" data-files="${g.files}"><span class="cause">${g.target}: ${g.cause}</span> — ${g.summary}<br><span class="muted">to clear:</span> ${g.advice}${g.example_path === '' ? '' : html` <span class="muted">(e.g. <code>${g.example_path}</code>)</span>`}</li>`)
  const offload = v.offload.required.length === 0
    ? html`<p class="muted">offload: nothing is required, so nothing in this volume may be offloaded</p>`
    : html`<p>offload: <strong>${v.offload.durable}</strong> of ${v.offload.present} present files durable on ${v.offload.required.join(' + ')}</p>${groups.length > 0 ? html`<ul class="groups">${groups}</ul>` : html`<p class="muted">nothing blocks offload</p>`}`
  return html`<article class="card volume" id="volume-${index}" data-volume="${v.name}">
<h3>volume ${v.name} <span class="muted mono">${v.path}</span></h3>
${v.identity.problem === null ? '' : html`<p class="warning" data-identity="${v.identity.state}">refused: ${v.identity.problem}</p>`}
<p class="files" data-present="${v.files.present}" data-offloaded="${v.files.offloaded}" data-missing="${v.files.missing}" data-conflict="${v.files.conflict}">files: ${v.files.present} present, ${v.files.offloaded} offloaded, ${v.files.missing} missing${v.files.conflict > 0 ? `, ${v.files.conflict} in conflict` : ''} · last index ${v.last_index === null ? 'never' : `${formatAge(nowNs, v.last_index.at_ns)} ago (${v.last_index.status}, run ${v.last_index.run_id})`}</p>
<table class="targets"><thead><tr><th>target</th><th>kind</th><th>role</th><th>covers</th><th class="num">evidence age</th><th class="num">lag</th><th>last push</th></tr></thead>
<tbody>${v.targets.length === 0 ? html`<tr><td colspan="7" class="muted">no targets: push_to and offload_requires are empty</td></tr>` : v.targets.map(t => targetRow(v, t, lag?.get(t.name), nowNs))}</tbody></table>
<div class="offload" data-durable="${v.offload.durable}" data-not-durable="${v.offload.not_durable}" data-present="${v.offload.present}">${offload}</div>
${v.warnings.length === 0 ? '' : html`<ul class="warnings">${v.warnings.map(w => html`<li class="warning">${w}</li>`)}</ul>`}
${v.notes.length === 0 ? '' : html`<ul class="notes">${v.notes.map(n => html`<li class="note muted">${n}</li>`)}</ul>`}
</article>`
}

function peersSection (view: PageView): Html {
  const { status, nowNs, online } = view
  if (status.peers.length === 0) return html`<p class="muted">no peers enrolled (<code>cairn peer add NAME INVITE</code>)</p>`
  const rows = status.peers.map(p => {
    const on = online.has(p.node_id)
    const last = p.last_pull === null ? 'never' : `${p.last_pull.status} ${formatAge(nowNs, p.last_pull.at_ns)} ago`
    const seen = p.last_seen_ns === null ? 'never' : `${formatAge(nowNs, p.last_seen_ns)} ago`
    return html`<tr class="peer" data-peer="${p.name ?? p.node_id}" data-node-id="${p.node_id}" data-status="${p.status}" data-online="${String(on)}" data-last-pull="${p.last_pull?.status ?? 'never'}">
<td><strong>${p.name ?? '-'}</strong></td><td>${p.status}</td><td class="${on ? 'online' : 'offline'}">${on ? 'online' : 'offline'}</td><td data-last-seen-ns="${String(p.last_seen_ns ?? '')}">${seen}</td>
<td class="st-${p.last_pull?.status ?? 'none'}">${last}${p.last_pull?.error == null ? '' : html`<br><span class="muted">${p.last_pull.error.slice(0, 200)}</span>`}</td>
<td class="mono">${p.node_id}</td></tr>${p.problem === null ? '' : html`<tr class="peer-problem"><td></td><td colspan="5" class="warning">${p.problem}</td></tr>`}`
  })
  return html`<div class="card"><table><thead><tr><th>name</th><th>status</th><th>online</th><th>last seen</th><th>last pull</th><th>node id</th></tr></thead><tbody>${rows}</tbody></table>
<p class="muted">online: a live libp2p connection with this serve process now; last seen: the last authenticated connection, either direction.</p></div>`
}

function impactRow (p: PeerImpact): Html {
  const i = p.impact
  const losing = i.filesLosingGate.reduce((n, f) => n + f.files, 0)
  const atRisk = i.offloadedAtRisk.reduce((n, g) => n + g.files, 0)
  const details: Html[] = [
    ...i.volumes.map(v => html`<li>${v.volume}: ${PLURAL(v.components, 'component')}, ${PLURAL(v.freshness, 'freshness row')}</li>`),
    ...i.filesLosingGate.map(f => html`<li class="warning">${f.volume}: ${PLURAL(f.files, 'file')} would lose their offload gate</li>`),
    ...i.offloadedAtRisk.slice(0, 20).map(g => html`<li class="warning">${g.volume}/${g.directory === '.' ? '' : `${g.directory}/`}: ${PLURAL(g.files, 'offloaded file')} would have no trusted copy — <code>${g.command}</code></li>`)
  ]
  return html`<tr class="impact" data-impact-peer="${p.peer}" data-components="${i.components}" data-freshness="${i.freshness}" data-files-losing-gate="${losing}" data-offloaded-at-risk="${atRisk}">
<td><strong>${p.peer}</strong></td><td class="num">${i.components}</td><td class="num">${i.freshness}</td><td class="num">${losing}</td><td class="num">${atRisk}</td>
<td>${details.length === 0 ? html`<span class="muted">nothing that passes the gate depends on its evidence</span>` : html`<ul>${details}</ul>`}</td></tr>`
}

function runRow (r: Run, nowNs: number, names: ReadonlyMap<string, string>): Html {
  const target = r.peer ?? (r.destination === null ? '' : names.get(r.destination) ?? r.destination)
  const took = r.endedAtNs === null ? `running ${formatAge(nowNs, r.startedAtNs)}` : `${formatAge(r.endedAtNs, r.startedAtNs)}`
  return html`<tr class="run" data-run-id="${r.id}" data-kind="${r.kind}" data-status="${r.status}">
<td class="num">${r.id}</td><td>${r.kind}</td><td>${r.volume ?? ''}</td><td>${target}</td><td class="st-${r.status}">${r.status}</td>
<td class="mono">${formatInstant(r.startedAtNs)}</td><td class="num">${took}</td><td class="num">${r.fileCount}</td><td class="num">${r.byteCount === 0 ? '' : formatBytes(r.byteCount)}</td>
<td>${r.error === null ? '' : r.error.slice(0, 300)}</td></tr>`
}

export function renderPage (view: PageView): string {
  const s = view.status
  const doc = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${PAGE_REFRESH_S}">
<title>cairn · ${s.name}</title>
<style>${constantHtml(CSS)}</style></head>
<body>
<header id="node" data-name="${s.name}" data-node-id="${s.node_id}" data-ok="${String(s.ok)}">
<h1>${s.name}</h1><span id="overall" class="badge ${s.ok ? 'ok' : 'bad'}" data-problems="${String(s.problems.length)}">${s.ok ? 'all good' : PLURAL(s.problems.length, 'problem') + ' to act on'}</span>
<div class="muted"><span class="mono">${s.node_id}</span> · updated <span id="updated" data-at-ns="${view.nowNs}">${formatInstant(view.nowNs)}</span> · reloads every ${PAGE_REFRESH_S} s · <a href="/api/status">/api/status</a> · <a href="/metrics">/metrics</a></div>
</header>
<main>
${s.problems.length === 0 ? '' : html`<section id="problems"><h2>To act on</h2><div class="card"><ul class="warnings">${s.problems.map(p => html`<li class="problem">${p}</li>`)}</ul><p class="muted">these make <code>cairn status</code> exit 1; files not pushed yet are shown per volume below and are not problems.</p></div></section>`}
<section id="volumes"><h2>Volumes</h2>
${s.volumes.length === 0 ? html`<p class="muted">no volumes configured ([volumes.NAME] in cairn.toml)</p>` : s.volumes.map((v, i) => volumeCard(v, view.lag.get(v.name), view.nowNs, i))}
</section>
<section id="peers"><h2>Peers</h2>${peersSection(view)}</section>
<section id="revocation"><h2>Revocation impact</h2>
${view.impacts.length === 0 ? html`<p class="muted">no live peers</p>` : html`<div class="card"><p class="muted">What <code>cairn peer revoke NAME --dry-run</code> reports for each live peer.</p><table><thead><tr><th>peer</th><th class="num">components</th><th class="num">freshness rows</th><th class="num">files losing gate</th><th class="num">offloaded at risk</th><th>detail</th></tr></thead><tbody>${view.impacts.map(impactRow)}</tbody></table></div>`}
</section>
<section id="runs"><h2>Recent runs</h2>
<div class="card"><table><thead><tr><th class="num">id</th><th>kind</th><th>volume</th><th>target / peer</th><th>status</th><th>started</th><th class="num">took</th><th class="num">files</th><th class="num">bytes</th><th>error</th></tr></thead>
<tbody>${view.runs.length === 0 ? html`<tr><td colspan="10" class="muted">no runs yet</td></tr>` : view.runs.map(r => runRow(r, view.nowNs, view.destinationNames))}</tbody></table></div>
</section>
</main>
<footer class="muted">cairn serve · this page has no scripts and loads nothing from elsewhere</footer>
</body></html>
`
  return doc.text
}
