/**
 * Who may read the HTTP view (docs/http.md, "Auth").
 *
 *  - A loopback bind needs no token, but the Host header must name a loopback host or the
 *    configured one: a page on another site whose name an attacker re-points at 127.0.0.1
 *    (DNS rebinding) sends its own name as Host and is refused (421).
 *  - Any other bind requires the token: `Authorization: Bearer TOKEN`, or `?token=TOKEN`
 *    once, which sets an HttpOnly, SameSite=Strict cookie and redirects to the same URL
 *    without the token (so it leaves the address bar and the history). The cookie holds a
 *    digest of the token, not the token. Comparisons are constant-time.
 *
 * A pure function of the request's method, URL and headers, so it is tested without sockets.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { isLoopbackHost } from '../config/http-listen.js'
import type { HttpListen } from '../config/types.js'

export const TOKEN_COOKIE = 'cairn_http'
/** Cookie headers longer than this are not parsed (the server's header limit bounds them too). */
export const MAX_COOKIE_HEADER_CHARS = 4096

export interface AuthPolicy {
  listen: HttpListen
  /** Required when the bind is not loopback; ignored on loopback. */
  token: string | null
}

export interface AuthRequest {
  /** The request target as sent (path and query). */
  url: string
  host: string | undefined
  authorization: string | undefined
  cookie: string | undefined
}

export type AuthDecision =
  | { kind: 'allow' }
  | { kind: 'refuse', status: 401 | 421, message: string }
  | { kind: 'redirect', location: string, setCookie: string }

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

/** Equal strings, in time that does not depend on where they differ (or on their lengths). */
export function sameSecret (a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b))
}

/** What the cookie carries for a token. */
export function cookieValue (token: string): string {
  return createHash('sha256').update('cairn-http-cookie\0').update(token).digest('hex')
}

/** The host part of a Host header, lower-cased, without port or IPv6 brackets; undefined when malformed. */
export function hostOf (header: string): string | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s/@]+))(?::\d{1,5})?$/.exec(header.trim())
  if (m === null) return undefined
  return (m[1] ?? m[2] ?? '').toLowerCase()
}

function cookieToken (header: string | undefined): string | undefined {
  if (header === undefined || header.length > MAX_COOKIE_HEADER_CHARS) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === TOKEN_COOKIE) return part.slice(eq + 1).trim()
  }
  return undefined
}

const TOKEN_HINT = 'this address requires the token in http.token in the node\'s home (or [serve] http_token_file): send "Authorization: Bearer TOKEN", or open this URL once with ?token=TOKEN'

export function authorize (policy: AuthPolicy, req: AuthRequest): AuthDecision {
  const url = new URL(req.url, 'http://cairn.invalid')
  if (policy.listen.loopback) {
    const host = req.host === undefined ? undefined : hostOf(req.host)
    const configured = policy.listen.host.toLowerCase()
    if (host === undefined || (!isLoopbackHost(host) && host !== configured)) {
      return { kind: 'refuse', status: 421, message: `this node answers HTTP only as localhost, a loopback address or ${policy.listen.host}; got Host ${JSON.stringify((req.host ?? '').slice(0, 100))}` }
    }
    return { kind: 'allow' }
  }
  const token = policy.token
  if (token === null) return { kind: 'refuse', status: 401, message: TOKEN_HINT }
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.authorization ?? '')?.[1]
  if (bearer !== undefined && sameSecret(bearer, token)) return { kind: 'allow' }
  const fromCookie = cookieToken(req.cookie)
  if (fromCookie !== undefined && sameSecret(fromCookie, cookieValue(token))) return { kind: 'allow' }
  const fromQuery = url.searchParams.get('token')
  if (fromQuery !== null && sameSecret(fromQuery, token)) {
    url.searchParams.delete('token')
    const search = url.searchParams.toString()
    return {
      kind: 'redirect',
      // one leading slash: `//host` would send the browser to another site
      location: `/${url.pathname.replace(/^[/\\]+/, '')}${search === '' ? '' : `?${search}`}`,
      setCookie: `${TOKEN_COOKIE}=${cookieValue(token)}; HttpOnly; SameSite=Strict; Path=/`
    }
  }
  return { kind: 'refuse', status: 401, message: TOKEN_HINT }
}
