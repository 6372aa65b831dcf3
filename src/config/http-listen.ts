/** `[serve] http = "HOST:PORT"`: parsed, and whether it is loopback-only (no token needed). */
import { isIP } from 'node:net'
import type { HttpListen } from './types.js'

export function parseHttpListen (text: string): HttpListen | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text)
  if (m === null) return undefined
  const host = m[1] ?? m[2] ?? ''
  const port = Number(m[3])
  if (port > 65535) return undefined
  if (m[1] !== undefined && isIP(host) !== 6) return undefined
  if (m[1] === undefined && isIP(host) === 0 && !/^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$/.test(host)) return undefined
  return { host, port, loopback: isLoopbackHost(host) }
}

export function isLoopbackHost (host: string): boolean {
  if (host === 'localhost' || host === '::1') return true
  return isIP(host) === 4 && host.startsWith('127.')
}

/** The URL a browser uses for a listen address. */
export function httpUrl (host: string, port: number): string {
  return `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}/`
}
