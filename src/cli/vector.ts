import type { Command } from 'commander'
import { UsageError } from '../errors.js'
import { isNodeId } from '../identity/node-id.js'
import { isDirectoryKey } from '../store/destinations.js'
import { nodeLabel, resolveNode, targetIdentity, targetKey, targetLabel, volumeForRead } from '../naming.js'
import { rewindComponent } from '../store/rewind.js'
import type { Store } from '../store/store.js'
import { action, positiveInt } from './command.js'
import { formatAge, formatInstant, table } from './output.js'

function labelOfRow (store: Store, rowId: number | null): { label: string, nodeId: string | null } {
  if (rowId === null) return { label: 'local', nodeId: null }
  const node = store.nodes.byRowId(rowId)
  return { label: nodeLabel(node, node?.nodeId ?? `#${rowId}`), nodeId: node?.nodeId ?? null }
}

export function registerVector (program: Command): void {
  const vector = program.command('vector')
    .description('the live durability vector of a volume, its history, and the audited rewind')

  vector.command('show <volume>', { isDefault: true, hidden: true })
    .description('the live durability vector')
    .option('--json', 'print an array of components')
    .action(action(async (ctx, volume: string, opts: { json?: boolean }) => {
      const store = ctx.store()
      const ref = volumeForRead(store, ctx.config(), volume)
      const components = ref.row === undefined ? [] : store.vector.list(ref.row.id)
      const rows = components.map(c => {
        const origin = store.nodes.byRowId(c.originNodeId)
        const source = labelOfRow(store, c.sourceNodeId)
        return {
          destination: targetLabel(store, c.destination),
          origin: nodeLabel(origin, origin?.nodeId ?? '?'),
          origin_node_id: origin?.nodeId ?? null,
          origin_run: c.originRunId,
          verify_method: c.verifyMethod,
          verified_at_ns: c.verifiedAtNs,
          source: source.label,
          source_node_id: source.nodeId,
          destination_key: c.destination,
          destination_owner_node_id: targetIdentity(store, c.destination).owner_node_id,
          destination_label: targetIdentity(store, c.destination).label,
          assertion_id: c.assertionId,
          updated_at_ns: c.updatedAtNs
        }
      })
      if (opts.json === true) {
        ctx.out.json(rows)
        return 0
      }
      if (rows.length === 0) {
        ctx.out.line(`volume ${volume} has no durability evidence yet (push it, or pull a peer that holds it)`)
        return 0
      }
      const now = ctx.clock.nowNs()
      for (const line of table(['DESTINATION', 'ORIGIN', 'RUN', 'METHOD', 'VERIFIED', 'SOURCE'],
        rows.map(r => [r.destination, r.origin, String(r.origin_run), r.verify_method ?? 'unverified',
          r.verified_at_ns === null ? 'unknown' : `${formatAge(now, r.verified_at_ns)} ago`,
          r.source === 'local' ? 'locally verified' : `asserted by peer ${r.source}`]))) ctx.out.line(line)
      return 0
    }))

  vector.command('history <volume>')
    .description('the append-only history of a volume\'s vector, oldest first')
    .option('--json', 'print an array of history rows')
    .action(action(async (ctx, volume: string, opts: { json?: boolean }) => {
      const store = ctx.store()
      const ref = volumeForRead(store, ctx.config(), volume)
      const history = ref.row === undefined ? [] : store.vector.history(ref.row.id)
      const rows = history.map(h => {
        const origin = store.nodes.byRowId(h.originNodeId)
        const source = labelOfRow(store, h.sourceNodeId)
        return {
          at_ns: h.atNs,
          destination: targetLabel(store, h.destination),
          origin: nodeLabel(origin, origin?.nodeId ?? '?'),
          origin_run: h.originRunId,
          verify_method: h.verifyMethod,
          source: source.label,
          source_node_id: source.nodeId,
          verified_at_ns: h.verifiedAtNs,
          run_id: h.runId
        }
      })
      if (opts.json === true) {
        ctx.out.json(rows)
        return 0
      }
      if (rows.length === 0) {
        ctx.out.line(`volume ${volume} has no vector history yet`)
        return 0
      }
      for (const line of table(['AT', 'DESTINATION', 'ORIGIN', 'RUN', 'METHOD', 'SOURCE', 'BY RUN'],
        rows.map(r => [formatInstant(r.at_ns), r.destination, r.origin, String(r.origin_run), r.verify_method ?? 'unverified', r.source, String(r.run_id)]))) ctx.out.line(line)
      return 0
    }))

  vector.command('rewind <volume> <destination> <origin> <run>')
    .description('lower one component: the one audited way down (needs --yes)')
    .option('--yes', 'really lower it')
    .option('--json', 'print {run_id, volume, destination, origin, from, to}')
    .action(action(async (ctx, volume: string, destination: string, origin: string, runText: string, opts: { yes?: boolean, json?: boolean }) => {
      const run = positiveInt('RUN')(runText)
      const store = ctx.store()
      const config = ctx.config()
      const ref = volumeForRead(store, config, volume)
      const originNode = resolveNode(store, config, origin)
      // a key as printed by `vector --json`, or a name resolved once (never a fallback)
      const destKey = isDirectoryKey(destination) || isNodeId(destination) ? destination : targetKey(store, config, destination)
      if (destKey === undefined) throw new UsageError(`${destination} resolves to no destination key here (a directory not pushed yet, or an unknown name)`, { hint: 'see `cairn vector VOLUME --json` for destination keys' })
      const current = ref.row === undefined ? undefined : store.vector.get(ref.row.id, destKey, originNode.id)
      const originLabel = nodeLabel(originNode, originNode.nodeId)
      const destLabel = targetLabel(store, destKey)
      if (opts.yes !== true) {
        if (opts.json === true) {
          ctx.out.json({ run_id: null, volume, destination: destLabel, origin: originLabel, from: current?.originRunId ?? null, to: run, dry_run: true })
        } else {
          ctx.out.line(current === undefined
            ? `${volume}/${destLabel} has no component for origin ${originLabel}; nothing to rewind`
            : `would lower ${volume}/${destLabel} origin ${originLabel} from run ${current.originRunId} to run ${run}`)
        }
        ctx.out.err('cairn: nothing changed: re-run with --yes to rewind (recorded as a run; history keeps both values)')
        return 1
      }
      if (ref.row === undefined) throw new UsageError(`volume ${volume} has no evidence to rewind`)
      const audit = ctx.audit('vector rewind', { volume, destination: destLabel, destination_key: destKey, origin: originLabel, origin_node_id: originNode.nodeId, from: current?.originRunId ?? null, to: run })
      const result = rewindComponent(store, { volumeId: ref.row.id, volume, destination: destKey, originNodeId: originNode.id, origin: originLabel, originRunId: run })
      audit.outcome({ run_id: result.runId, from: result.from, to: result.to })
      if (opts.json === true) {
        ctx.out.json({ run_id: result.runId, volume, destination: destLabel, origin: originLabel, from: result.from, to: result.to })
      } else {
        ctx.out.line(`rewound ${volume}/${destLabel} origin ${originLabel} from run ${result.from} to run ${result.to} (run ${result.runId})`)
      }
      return 0
    }))
}

