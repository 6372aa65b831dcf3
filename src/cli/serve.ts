import type { Command } from 'commander'
import { rotatingFileSink } from './log-file.js'
import { readLiveServeState, removeServeState, writeServeState } from '../serve-state.js'
import { CairnError, ConfigError, ServeAlreadyRunningError } from '../errors.js'
import { httpUrl } from '../config/http-listen.js'
import { packageVersion } from '../package-root.js'
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
      const startedAtNs = ctx.clock.nowNs()
      // libp2p (and prom-client) are loaded only by the commands that need them: they dominate start-up time.
      const { startNode } = await import('../node.js')
      const listen = config.serve.http ?? null
      // one registry of this process's own for /metrics: libp2p's metrics and cairn's
      const registry = listen === null ? undefined : new (await import('prom-client')).Registry()
      const metrics = registry === undefined ? undefined : (await import('@libp2p/prometheus-metrics')).prometheusMetrics({ registry, preserveExistingMetrics: true })
      const node = await startNode({ store, key, config, logger: ctx.logger, clock: ctx.clock, ...(metrics === undefined ? {} : { metrics }) }).catch((err: unknown) => {
        // a listen address that cannot be bound is one plain line, not libp2p's internals
        throw listenErrorFrom(err) ?? err
      })
      const addrs = node.addrs()

      // HTTP comes after the node and never stops it: replication goes on without the page
      let web: { url: string, close: () => Promise<void> } | undefined
      if (listen === null) {
        ctx.out.line('http off: [serve] http is "" in cairn.toml')
      } else if (registry !== undefined) {
        const httpLog = ctx.logger.forComponent('http')
        try {
          const { startStatusHttp } = await import('../http/status-http.js')
          web = await startStatusHttp({
            listen,
            tokenFile: config.serve.httpTokenFile ?? ctx.paths.httpToken,
            store,
            config,
            clock: ctx.clock,
            logger: httpLog,
            onlinePeers: () => new Set(node.host.getConnections().map(c => c.remotePeer.toString())),
            registry,
            version: packageVersion(),
            startedAtNs,
            addrs
          })
          ctx.out.line(`http ${web.url}`)
          httpLog.info('serving the status page and /metrics', { url: web.url, token_required: !listen.loopback })
        } catch (err) {
          const why = err instanceof CairnError ? `${err.message}${err.hint === undefined ? '' : `; ${err.hint}`}` : `cannot serve HTTP on ${httpUrl(listen.host, listen.port)}: ${err instanceof Error ? err.message : String(err)}`
          httpLog.warn(`no status page or /metrics: ${why}`, { address: `${listen.host}:${listen.port}` })
          ctx.out.line(`http off: ${why}`)
        }
      }
      writeServeState(ctx.paths.serveState, { pid: process.pid, addrs, startedAtNs, ...(web === undefined ? {} : { httpUrl: web.url }) })
      for (const a of addrs) ctx.out.line(`listening ${a}`)
      logger.info('serving', { node_id: key.nodeId, name: config.name, addrs, pull_every_ms: config.serve.pullEveryMs, mdns: config.serve.mdns === true, ...(web === undefined ? {} : { http: web.url }) })

      const signal = await new Promise<string>((resolve) => {
        const onInt = (): void => { resolve('SIGINT') }
        const onTerm = (): void => { resolve('SIGTERM') }
        process.once('SIGINT', onInt)
        process.once('SIGTERM', onTerm)
      })
      logger.info('stopping', { signal })
      await web?.close()
      await node.stop()
      removeServeState(ctx.paths.serveState, process.pid)
      logger.info('stopped')
      return 0
    }))
}
