import { request } from 'node:http'

export interface HttpAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/**
 * One HTTP request to a loopback URL with full control of the headers (fetch cannot set Host);
 * `host: null` sends no Host header at all. Bounded by a timeout.
 */
export async function httpGet (url: string, options: { method?: string, headers?: Record<string, string>, host?: string | null, body?: string, timeoutMs?: number } = {}): Promise<HttpAnswer> {
  const u = new URL(url)
  return await new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers }
    if (options.host !== undefined && options.host !== null) headers.Host = options.host
    const req = request({
      host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, method: options.method ?? 'GET', headers, setHost: options.host !== null, agent: false
    }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { body += d })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body }) })
      res.on('error', reject)
    })
    req.setTimeout(options.timeoutMs ?? 10_000, () => { req.destroy(new Error(`no answer from ${url}`)) })
    req.on('error', reject)
    req.end(options.body)
  })
}
