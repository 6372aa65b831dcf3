import { appendFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Command } from 'commander'
import { formatJsonLine, type LogSink } from '../logger.js'
import { readLiveServeState, removeServeState, writeServeState } from '../serve-state.js'
import { ServeAlreadyRunningError } from '../errors.js'
import { action } from './command.js'
import { envLogLevel, stderrSink } from './context.js'

function fileSink (dir: string): LogSink {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const file = join(dir, 'cairn.log')
  return { minLevel: 'debug', write: (r) => { appendFileSync(file, formatJsonLine(r) + '\n') } }
}

export function registerServe (program: Command): void {
  program.command('serve')
    .description('run the node until SIGINT/SIGTERM')
    .action(action(async (ctx) => {
      ctx.setSinks([stderrSink(envLogLevel('info')), fileSink(ctx.paths.logs)])
      const live = readLiveServeState(ctx.paths.serveState)
      if (live !== undefined && live.pid !== process.pid) throw new ServeAlreadyRunningError(ctx.paths.home, live.pid)
      const config = ctx.config()
      const key = ctx.key()
      const store = ctx.store()
      const logger = ctx.logger.forComponent('serve')
      for (const run of store.runs.reapOrphans()) logger.info('marked an orphaned run aborted', { run: run.id, kind: run.kind })

      // libp2p is loaded only by the commands that need it: it dominates start-up time.
      const { createHost } = await import('../p2p/host.js')
      const host = await createHost({ key, listen: config.listen, gate: { allows: (id) => store.nodes.isLivePeer(id) }, logger: ctx.logger.forComponent('p2p') })
      await host.start()
      const addrs = host.getMultiaddrs().map(a => a.toString().replace(/\/p2p\/[^/]+$/, ''))
      writeServeState(ctx.paths.serveState, { pid: process.pid, addrs, startedAtNs: ctx.clock.nowNs() })
      for (const a of addrs) ctx.out.line(`listening ${a}`)
      logger.info('serving', { node_id: key.nodeId, name: config.name, addrs })

      await new Promise<void>((resolve) => {
        const stop = (signal: string): void => {
          logger.info('stopping', { signal })
          process.off('SIGINT', onInt)
          process.off('SIGTERM', onTerm)
          resolve()
        }
        const onInt = (): void => { stop('SIGINT') }
        const onTerm = (): void => { stop('SIGTERM') }
        process.on('SIGINT', onInt)
        process.on('SIGTERM', onTerm)
      })
      await host.stop()
      removeServeState(ctx.paths.serveState, process.pid)
      return 0
    }))
}
