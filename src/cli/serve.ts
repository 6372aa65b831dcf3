import type { Command } from 'commander'
import { rotatingFileSink } from './log-file.js'
import { readLiveServeState, removeServeState, writeServeState } from '../serve-state.js'
import { ConfigError, ServeAlreadyRunningError } from '../errors.js'
import { checkConfigAgainstPeers } from '../config/resolve.js'
import { action } from './command.js'
import { listenErrorFrom } from '../p2p/listen-error.js'
import { envLogLevel, stderrSink } from './context.js'

export function registerServe (program: Command): void {
  program.command('serve')
    .description('run the node until SIGINT/SIGTERM: answer pulls and pushes, pull peers on schedule')
    .action(action(async (ctx) => {
      ctx.setSinks([stderrSink(envLogLevel('info')), rotatingFileSink(ctx.paths.logs)])
      const live = readLiveServeState(ctx.paths.serveState)
      if (live !== undefined && live.pid !== process.pid) throw new ServeAlreadyRunningError(ctx.paths.home, live.pid)
      // serve never pushes, so a push_to name that is not enrolled yet is a warning here (the
      // operator may be about to enroll it); `cairn push` refuses it.
      const config = ctx.config()
      const key = ctx.key()
      const store = ctx.store()
      const logger = ctx.logger.forComponent('serve')
      try {
        checkConfigAgainstPeers(config, store.nodes.livePeerNames())
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err
        logger.warn('the config names a push target that is neither a destination nor an enrolled peer; enroll it before pushing', { key: err.key, got: err.got })
      }
      // libp2p is loaded only by the commands that need it: it dominates start-up time.
      const { startNode } = await import('../node.js')
      const node = await startNode({ store, key, config, logger: ctx.logger, clock: ctx.clock }).catch((err: unknown) => {
        // a listen address that cannot be bound is one plain line, not libp2p's internals
        throw listenErrorFrom(err) ?? err
      })
      const addrs = node.addrs()
      writeServeState(ctx.paths.serveState, { pid: process.pid, addrs, startedAtNs: ctx.clock.nowNs() })
      for (const a of addrs) ctx.out.line(`listening ${a}`)
      logger.info('serving', { node_id: key.nodeId, name: config.name, addrs, pull_every_ms: config.serve.pullEveryMs })

      const signal = await new Promise<string>((resolve) => {
        const onInt = (): void => { resolve('SIGINT') }
        const onTerm = (): void => { resolve('SIGTERM') }
        process.once('SIGINT', onInt)
        process.once('SIGTERM', onTerm)
      })
      logger.info('stopping', { signal })
      await node.stop()
      removeServeState(ctx.paths.serveState, process.pid)
      logger.info('stopped')
      return 0
    }))
}
