import { describe, expect, it } from 'vitest'
import { authorize, cookieValue, hostOf, sameSecret, TOKEN_COOKIE, type AuthPolicy } from '../../src/http/auth.js'

const TOKEN = 'a'.repeat(64)
const loopback: AuthPolicy = { listen: { host: '127.0.0.1', port: 4780, loopback: true }, token: null }
const lan: AuthPolicy = { listen: { host: '0.0.0.0', port: 4780, loopback: false }, token: TOKEN }
const req = (url: string, more: { host?: string, authorization?: string, cookie?: string } = {}): Parameters<typeof authorize>[1] =>
  ({ url, host: more.host ?? '192.168.1.5:4780', authorization: more.authorization, cookie: more.cookie })

describe('HTTP auth', () => {
  it('reads the host of a Host header: names, IPv4, bracketed IPv6, with or without port', () => {
    expect(hostOf('LocalHost:4780')).toBe('localhost')
    expect(hostOf('127.0.0.1')).toBe('127.0.0.1')
    expect(hostOf('[::1]:4780')).toBe('::1')
    expect(hostOf('a@127.0.0.1')).toBeUndefined()
    expect(hostOf('127.0.0.1:80/x')).toBeUndefined()
    expect(hostOf('')).toBeUndefined()
  })

  it('lets a loopback bind answer loopback names and the configured host only', () => {
    expect(authorize(loopback, req('/', { host: 'localhost:4780' }))).toEqual({ kind: 'allow' })
    expect(authorize(loopback, req('/', { host: '127.8.9.10' }))).toEqual({ kind: 'allow' })
    expect(authorize(loopback, req('/', { host: '[::1]:1' }))).toEqual({ kind: 'allow' })
    expect(authorize(loopback, req('/', { host: 'rebound.example:4780' }))).toMatchObject({ kind: 'refuse', status: 421 })
    expect(authorize({ ...loopback, listen: { host: 'cairn.localhost', port: 1, loopback: true } }, req('/', { host: 'cairn.localhost:1' }))).toEqual({ kind: 'allow' })
  })

  it('requires the token on any other bind, whatever the Host', () => {
    expect(authorize(lan, req('/'))).toMatchObject({ kind: 'refuse', status: 401 })
    expect(authorize(lan, req('/', { host: 'localhost' }))).toMatchObject({ kind: 'refuse', status: 401 })
    expect(authorize({ ...lan, token: null }, req('/', { authorization: `Bearer ${TOKEN}` }))).toMatchObject({ kind: 'refuse', status: 401 })
    expect(authorize(lan, req('/', { authorization: `Bearer ${TOKEN}` }))).toEqual({ kind: 'allow' })
    expect(authorize(lan, req('/', { authorization: `bearer ${TOKEN}` }))).toEqual({ kind: 'allow' })
    expect(authorize(lan, req('/', { authorization: `Bearer ${TOKEN}x` }))).toMatchObject({ kind: 'refuse' })
    expect(authorize(lan, req('/', { authorization: `Basic ${TOKEN}` }))).toMatchObject({ kind: 'refuse' })
    expect(authorize(lan, req('/', { cookie: `${TOKEN_COOKIE}=${cookieValue(TOKEN)}` }))).toEqual({ kind: 'allow' })
    // the cookie carries a digest: the raw token in the cookie is not accepted
    expect(authorize(lan, req('/', { cookie: `${TOKEN_COOKIE}=${TOKEN}` }))).toMatchObject({ kind: 'refuse' })
  })

  it('turns ?token= into a cookie and a redirect that keeps the path and drops the token, never off-site', () => {
    expect(authorize(lan, req(`/metrics?a=1&token=${TOKEN}&b=2`))).toEqual({
      kind: 'redirect', location: '/metrics?a=1&b=2', setCookie: `${TOKEN_COOKIE}=${cookieValue(TOKEN)}; HttpOnly; SameSite=Strict; Path=/`
    })
    expect(authorize(lan, req(`/.//evil.example/x?token=${TOKEN}`))).toMatchObject({ kind: 'redirect', location: '/evil.example/x' })
    expect(authorize(lan, req(`/?token=${TOKEN.slice(1)}`))).toMatchObject({ kind: 'refuse', status: 401 })
  })

  it('compares secrets of any length without throwing', () => {
    expect(sameSecret('abc', 'abc')).toBe(true)
    expect(sameSecret('abc', 'abcd')).toBe(false)
    expect(sameSecret('', TOKEN)).toBe(false)
  })
})
