/**
 * The HTTP listener of `cairn serve` (docs/http.md): `/` the status page, `/api/status` the
 * JSON of `cairn status --json`, `/metrics` Prometheus text. GET and HEAD only; no request
 * body is ever read. Bounded: header size, header and request time-outs, idle keep-alive,
 * concurrent connections. Every request passes `authorize` first.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { httpUrl } from '../config/http-listen.js'
import type { HttpListen } from '../config/types.js'
import { HttpBindError } from '../errors.js'
import type { Logger } from '../logger.js'
import { authorize } from './auth.js'
import { systemClock, type Clock } from '../clock.js'
import { sharedWork } from './shared-work.js'

/** Request line plus headers, bytes (Node's default is 16 KiB; a browser sends ~1 KiB). */
export const MAX_HTTP_HEADER_BYTES = 8 * 1024
export const HTTP_HEADERS_TIMEOUT_MS = 5_000
export const HTTP_REQUEST_TIMEOUT_MS = 10_000
export const HTTP_KEEP_ALIVE_TIMEOUT_MS = 5_000
export const MAX_HTTP_CONNECTIONS = 32
/** A page or scrape taking longer than this is answered 503 (the store is busy or huge). */
export const HTTP_RESPONSE_DEADLINE_MS = 30_000
/** A route's answer is reused for this long after it was computed (a page reloads every 10 s). */
export const HTTP_RESULT_REUSE_MS = 1_000
/** How often Node checks the header and request time-outs (its default, 30 s, enforces a 5 s limit late). */
export const HTTP_TIMEOUT_CHECK_MS = 1_000

export interface HttpBody {
  contentType: string
  body: string
}

/** What the routes serve; each is computed per request. */
export interface HttpRoutes {
  page: () => Promise<string>
  status: () => Promise<unknown>
  metrics: () => Promise<HttpBody>
}

export interface HttpServerInit {
  listen: HttpListen
  /** Required by a non-loopback bind. */
  token: string | null
  routes: HttpRoutes
  logger: Logger
  /** For reusing a route's answer (HTTP_RESULT_REUSE_MS); default the system clock. */
  clock?: Clock
}

export interface RunningHttpServer {
  /** The URL a browser opens (the actual port when the config said 0). */
  readonly url: string
  readonly port: number
  /** Stops listening and closes every connection, keep-alive ones included. */
  close: () => Promise<void>
}

const SECURITY_HEADERS: Record<string, string> = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  // the page has no scripts and loads nothing: inline CSS only
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

function send (req: IncomingMessage, res: ServerResponse, status: number, contentType: string, body: string, extra: Record<string, string> = {}): void {
  const bytes = Buffer.from(body, 'utf8')
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': contentType, 'Content-Length': String(bytes.length), ...extra })
  res.end(req.method === 'HEAD' ? undefined : bytes)
}

const text = (req: IncomingMessage, res: ServerResponse, status: number, line: string, extra: Record<string, string> = {}): void => {
  send(req, res, status, 'text/plain; charset=utf-8', line + '\n', extra)
}

async function withDeadline<T> (work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`no answer within ${ms} ms`)) }, ms) })
  try {
    return await Promise.race([work, late])
  } finally {
    clearTimeout(timer)
  }
}

export function handler (init: HttpServerInit): (req: IncomingMessage, res: ServerResponse) => void {
  const log = init.logger
  return (req, res) => {
    void (async () => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        text(req, res, 405, 'only GET and HEAD are served', { Allow: 'GET, HEAD', Connection: 'close' })
        return
      }
      // a GET has no body; one that announces a body is not read, and the connection ends
      if (req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0')) {
        text(req, res, 413, 'a request body is not accepted', { Connection: 'close' })
        return
      }
      // a target WHATWG URL refuses (`//[`, `http://a:b`) is a bad request, never a throw here
      let path: string
      try {
        path = new URL(req.url ?? '/', 'http://cairn.invalid').pathname
      } catch {
        text(req, res, 400, 'a malformed request target', { Connection: 'close' })
        return
      }
      const auth = authorize({ listen: init.listen, token: init.token }, {
        url: req.url ?? '/', host: req.headers.host, authorization: req.headers.authorization, cookie: req.headers.cookie
      })
      if (auth.kind === 'refuse') {
        log.debug('refused an HTTP request', { status: auth.status, remote: req.socket.remoteAddress })
        text(req, res, auth.status, auth.message, auth.status === 401 ? { 'WWW-Authenticate': 'Bearer realm="cairn"' } : {})
        return
      }
      if (auth.kind === 'redirect') {
        text(req, res, 303, `see ${auth.location}`, { Location: auth.location, 'Set-Cookie': auth.setCookie })
        return
      }
      try {
        switch (path) {
          case '/':
            send(req, res, 200, 'text/html; charset=utf-8', await withDeadline(init.routes.page(), HTTP_RESPONSE_DEADLINE_MS))
            return
          case '/api/status':
            send(req, res, 200, 'application/json; charset=utf-8', JSON.stringify(await withDeadline(init.routes.status(), HTTP_RESPONSE_DEADLINE_MS), null, 2) + '\n')
            return
          case '/metrics': {
            const m = await withDeadline(init.routes.metrics(), HTTP_RESPONSE_DEADLINE_MS)
            send(req, res, 200, m.contentType, m.body)
            return
          }
          default:
            text(req, res, 404, `no such page: ${path.slice(0, 200)} (this node serves /, /api/status and /metrics)`)
        }
      } catch (err) {
        // the detail goes to the log, not to the client (it can carry paths and SQL)
        log.warn('an HTTP request failed', { path, error: err instanceof Error ? err.message : String(err) })
        if (!res.headersSent) text(req, res, 503, 'the node could not build this response now; see its log')
        else res.destroy()
      }
    })().catch((err: unknown) => {
      // an unhandled rejection would end serve: whatever a request does, it ends only itself
      log.warn('an HTTP request could not be answered', { error: err instanceof Error ? err.message : String(err) })
      if (!res.headersSent) text(req, res, 400, 'this request could not be answered', { Connection: 'close' })
      else res.destroy()
    })
  }
}

function bindReason (code: string, listen: HttpListen): string {
  switch (code) {
    case 'EADDRINUSE': return `port ${listen.port} is already in use on ${listen.host} (another cairn serve, or another program)`
    case 'EADDRNOTAVAIL': return `no network interface of this machine has the address ${listen.host}`
    case 'EACCES': return `this user may not listen on port ${listen.port} (ports below 1024 need privileges)`
    case 'ENOTFOUND': case 'EAI_AGAIN': return `the host name ${listen.host} does not resolve to an address of this machine`
    default: return `the system refused it (${code})`
  }
}

export async function startHttpServer (init: HttpServerInit): Promise<RunningHttpServer> {
  const clock = init.clock ?? systemClock
  const routes: HttpRoutes = {
    page: sharedWork(init.routes.page, clock, HTTP_RESULT_REUSE_MS),
    status: sharedWork(init.routes.status, clock, HTTP_RESULT_REUSE_MS),
    metrics: sharedWork(init.routes.metrics, clock, HTTP_RESULT_REUSE_MS)
  }
  const server: Server = createServer({
    maxHeaderSize: MAX_HTTP_HEADER_BYTES,
    headersTimeout: HTTP_HEADERS_TIMEOUT_MS,
    requestTimeout: HTTP_REQUEST_TIMEOUT_MS,
    keepAliveTimeout: HTTP_KEEP_ALIVE_TIMEOUT_MS,
    connectionsCheckingInterval: HTTP_TIMEOUT_CHECK_MS
  }, handler({ ...init, routes }))
  // At MAX_HTTP_CONNECTIONS a new connection does not get refused: the oldest connection with no
  // request in progress (one that connected and sent nothing, or an idle keep-alive) is closed
  // for it, so sockets that sit idle cannot lock out a scrape. Only when every connection is
  // busy with a request is the new one closed.
  const sockets = new Map<Socket, { busy: number }>()
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const state = sockets.get(req.socket)
    if (state === undefined) return
    state.busy++
    res.once('close', () => { state.busy-- })
  })
  server.on('connection', (s: Socket) => {
    if (sockets.size >= MAX_HTTP_CONNECTIONS) {
      const idle = [...sockets].find(([, st]) => st.busy === 0)
      if (idle === undefined) {
        s.destroy()
        return
      }
      idle[0].destroy()
      sockets.delete(idle[0])
    }
    sockets.set(s, { busy: 0 })
    s.once('close', () => sockets.delete(s))
  })
  server.on('clientError', (_err, socket: Socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')
    else socket.destroy()
  })
  const address = `${init.listen.host}:${init.listen.port}`
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const code = err.code ?? 'unknown'
      reject(new HttpBindError(address, code, bindReason(code, init.listen), err))
    }
    server.once('error', onError)
    server.listen({ host: init.listen.host, port: init.listen.port }, () => {
      server.off('error', onError)
      resolve()
    })
  })
  server.on('error', (err) => { init.logger.warn('the HTTP listener failed', { error: err.message }) })
  const port = (server.address() as AddressInfo).port
  let closing: Promise<void> | undefined
  return {
    url: httpUrl(init.listen.host, port),
    port,
    close: async () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => { resolve() })
        server.closeAllConnections()
        for (const s of sockets.keys()) s.destroy()
      })
      await closing
    }
  }
}
