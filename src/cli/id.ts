import type { Command } from 'commander'
import { expandWildcards } from '../p2p/addresses.js'
import { encodeInvite } from '../p2p/invite.js'
import { readLiveServeState } from '../serve-state.js'
import { action } from './command.js'
import type { CliContext } from './context.js'

/**
 * Addresses other nodes can dial: the running serve's real ones, else the config's with
 * wildcards expanded. Port 0 (pick any port) is only known once `serve` runs, so it is left out.
 */
export function advertisedAddrs (ctx: CliContext): string[] {
  const live = readLiveServeState(ctx.paths.serveState)
  if (live !== undefined && live.addrs.length > 0) return live.addrs
  return expandWildcards(ctx.config().listen).filter(a => !a.endsWith('/tcp/0'))
}

export function registerId (program: Command): void {
  program.command('id')
    .description('print this node\'s identity and an invite for `cairn peer add`')
    .option('--json', 'print {node_id, name, addrs, invite}')
    .action(action(async (ctx, opts: { json?: boolean }) => {
      const key = ctx.key()
      const config = ctx.config()
      const addrs = advertisedAddrs(ctx)
      const invite = encodeInvite({ nodeId: key.nodeId, name: config.name, addrs })
      if (opts.json === true) {
        ctx.out.json({ node_id: key.nodeId, name: config.name, addrs, invite })
      } else {
        ctx.out.line(`node id  ${key.nodeId}`)
        ctx.out.line(`name     ${config.name}`)
        for (const a of addrs) ctx.out.line(`addr     ${a}`)
        if (addrs.length === 0) ctx.out.line('addr     (none yet: the config listens on port 0; start `cairn serve`, then run `cairn id` again)')
        ctx.out.line('')
        ctx.out.line('invite (on the other node: cairn peer add NAME <invite>):')
        ctx.out.line(invite)
      }
      return 0
    }))
}
