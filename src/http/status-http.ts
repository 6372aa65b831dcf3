/**
 * The HTTP view of a serving node, assembled: the token (for a non-loopback bind), the routes
 * over the store, and the listener. `cairn serve` starts it after the libp2p node.
 */
import type { Registry } from 'prom-client'
import type { Clock } from '../clock.js'
import type { Config, HttpListen } from '../config/types.js'
import type { Logger } from '../logger.js'
import type { DirectoryFs } from '../push/directory-fs.js'
import { readNodeStatus } from '../status-report.js'
import type { ServeStatus } from '../status.js'
import type { Store } from '../store/store.js'
import { cairnMetrics } from './metrics.js'
import { unlintable, type FamilyInfo } from './metric-names.js'
import { renderPage } from './page.js'
import { startHttpServer, type RunningHttpServer } from './server.js'
import { loadOrCreateToken } from './token.js'
import { pageView, statusView, type ViewSources } from './view.js'

export interface StatusHttpInit {
  listen: HttpListen
  /** Where the token is (or is created) when the bind is not loopback. */
  tokenFile: string
  store: Store
  config: Config
  clock: Clock
  logger: Logger
  /** Node ids with a live libp2p connection now. */
  onlinePeers: () => ReadonlySet<string>
  /** cairn_* metrics are registered here; libp2p's may already be. */
  registry: Registry
  version: string
  startedAtNs: number
  /** This serve's listen addresses (for the status document's `serve`). */
  addrs: string[]
  fs?: DirectoryFs
}

export async function startStatusHttp (init: StatusHttpInit): Promise<RunningHttpServer> {
  let token: string | null = null
  if (!init.listen.loopback) {
    const loaded = loadOrCreateToken(init.tokenFile)
    token = loaded.token
    if (loaded.created) init.logger.info('created the HTTP token file (mode 0600)', { path: init.tokenFile })
    if (loaded.readableByOthers) init.logger.warn('the HTTP token file can be read by other users; chmod 600 it', { path: init.tokenFile })
  }
  const serve: ServeStatus = { running: true, pid: process.pid, started_at_ns: init.startedAtNs, addrs: init.addrs, http_url: null }
  const sources: ViewSources = {
    store: init.store, config: init.config, nowNs: init.clock.nowNs, onlinePeers: init.onlinePeers, ...(init.fs === undefined ? {} : { fs: init.fs }),
    serve
  }
  const left = new Set<string>()
  const metrics = cairnMetrics({ registry: init.registry, version: init.version, startedAtNs: init.startedAtNs })
  const server = await startHttpServer({
    listen: init.listen,
    token,
    logger: init.logger,
    routes: {
      page: async () => renderPage(await pageView(sources)),
      status: async () => await readNodeStatus(init.store, init.config, init.clock.nowNs, init.fs, sources.serve),
      metrics: async () => {
        metrics.refresh(await statusView(sources), init.store)
        // libraries register metrics as they go (libp2p per listener): check at every scrape
        for (const bad of unlintable(init.registry.getMetricsAsArray() as unknown as FamilyInfo[]).filter(b => !b.name.startsWith('cairn_'))) {
          init.registry.removeSingleMetric(bad.name)
          if (!left.has(bad.name) && left.size < 1000) {
            left.add(bad.name)
            init.logger.info('left a library metric out of /metrics: its name breaks Prometheus naming rules', { metric: bad.name, problems: bad.problems })
          }
        }
        return { contentType: init.registry.contentType, body: await init.registry.metrics() }
      }
    }
  })
  serve.http_url = server.url
  return server
}
