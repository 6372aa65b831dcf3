import type { Command } from 'commander'
import { UsageError } from '../errors.js'
import { createHome } from '../home.js'
import { isValidName, NAME_RULE } from '../names.js'
import { action, collectMultiaddr } from './command.js'

export function registerInit (program: Command): void {
  program.command('init')
    .description('create a new node home: key, config and database')
    .option('--name <name>', 'this node\'s label (default: from the hostname)')
    .option('--listen <multiaddr>', 'a TCP multiaddr to listen on, e.g. /ip4/0.0.0.0/tcp/4701 (repeatable; the default)', collectMultiaddr('--listen', false))
    .option('--json', 'print {node_id, name, home}')
    .action(action(async (ctx, opts: { name?: string, listen?: string[], json?: boolean }) => {
      // bad option values are usage errors (exit 2), refused before anything is created
      if (opts.name !== undefined && !isValidName(opts.name)) throw new UsageError(`--name: expected ${NAME_RULE}, got ${JSON.stringify(opts.name)}`)
      const created = createHome({ home: ctx.paths.home, name: opts.name, listen: opts.listen, clock: ctx.clock, logger: ctx.logger })
      if (opts.json === true) {
        ctx.out.json({ node_id: created.nodeId, name: created.name, home: created.home })
      } else {
        ctx.out.line(`created cairn home ${created.home}`)
        ctx.out.line(`  node id  ${created.nodeId}`)
        ctx.out.line(`  name     ${created.name}`)
        ctx.out.line('next: declare volumes and destinations in cairn.toml, then run `cairn serve`')
      }
      return 0
    }))
}
