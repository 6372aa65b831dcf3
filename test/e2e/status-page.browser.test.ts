/**
 * The status page of a real `cairn serve`, in a real browser: headless Chromium (Debian's
 * package, driven by playwright-core) loads `/`, and what it shows is checked against
 * `/api/status`, with JavaScript on and off; then a screenshot (docs/status-page.png with
 * UPDATE_SCREENSHOTS=1). Without a Chromium the file says so in one line and skips.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { httpGet } from '../helpers/http.js'
import { startStatusFleet, type StatusFleet } from './status-fleet.js'

function findChromium (): string | undefined {
  const env = process.env.CAIRN_CHROMIUM
  if (env !== undefined && env !== '') return env
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium'
  try {
    const found = execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim()
    return found === '' ? undefined : found
  } catch {
    return undefined
  }
}

const CHROMIUM = findChromium()
if (CHROMIUM === undefined) console.log('status page browser test skipped: no chromium; install it with `apt-get install chromium`')

const SCREENSHOT = fileURLToPath(new URL('../../docs/status-page.png', import.meta.url))

interface ApiStatus {
  node_id: string
  name: string
  ok: boolean
  problems: string[]
  volumes: Array<{
    name: string
    path: string
    files: { present: number, offloaded: number, missing: number }
    targets: Array<{ name: string, kind: string, components: unknown[] }>
    offload: { durable: number, not_durable: number, groups: Array<{ target: string, cause: string, files: number, summary: string, advice: string }> }
  }>
  peers: Array<{ name: string | null, node_id: string, status: string, last_pull: { status: string } | null }>
}

interface PageContent {
  name: string | null
  nodeId: string | null
  ok: string | null
  problems: string[]
  volumes: Array<{ name: string | null, present: string | null, offloaded: string | null, missing: string | null, durable: string | null, notDurable: string | null, targets: Array<{ name: string | null, kind: string | null, lag: string | null }>, groups: Array<{ target: string | null, cause: string | null, files: string | null, text: string }> }>
  peers: Array<{ name: string | null, nodeId: string | null, status: string | null, online: string | null }>
  impacts: Array<{ peer: string | null, components: string | null }>
  runs: number
  scripts: number
}

/** Reads the page through its DOM, as a person's browser rendered it. */
async function readPage (page: Page): Promise<PageContent> {
  const attr = async (sel: string, name: string): Promise<string | null> => await page.locator(sel).first().getAttribute(name)
  const volumes: PageContent['volumes'] = []
  for (const v of await page.locator('article.volume').all()) {
    const targets = await Promise.all((await v.locator('tr.target').all()).map(async t => ({ name: await t.getAttribute('data-target'), kind: await t.getAttribute('data-kind'), lag: await t.getAttribute('data-lag') })))
    const groups = await Promise.all((await v.locator('li.group').all()).map(async g => ({ target: await g.getAttribute('data-target'), cause: await g.getAttribute('data-cause'), files: await g.getAttribute('data-files'), text: await g.innerText() })))
    const files = v.locator('p.files')
    const offload = v.locator('div.offload')
    volumes.push({
      name: await v.getAttribute('data-volume'),
      present: await files.getAttribute('data-present'),
      offloaded: await files.getAttribute('data-offloaded'),
      missing: await files.getAttribute('data-missing'),
      durable: await offload.getAttribute('data-durable'),
      notDurable: await offload.getAttribute('data-not-durable'),
      targets,
      groups
    })
  }
  const peers = await Promise.all((await page.locator('tr.peer').all()).map(async p => ({ name: await p.getAttribute('data-peer'), nodeId: await p.getAttribute('data-node-id'), status: await p.getAttribute('data-status'), online: await p.getAttribute('data-online') })))
  const impacts = await Promise.all((await page.locator('tr.impact').all()).map(async p => ({ peer: await p.getAttribute('data-impact-peer'), components: await p.getAttribute('data-components') })))
  return {
    name: await attr('#node', 'data-name'),
    nodeId: await attr('#node', 'data-node-id'),
    ok: await attr('#node', 'data-ok'),
    problems: await Promise.all((await page.locator('li.problem').all()).map(async p => await p.innerText())),
    volumes,
    peers,
    impacts,
    runs: await page.locator('tr.run').count(),
    scripts: await page.locator('script').count()
  }
}

function expectMatches (content: PageContent, api: ApiStatus): void {
  expect(content.name).toBe(api.name)
  expect(content.nodeId).toBe(api.node_id)
  expect(content.ok).toBe(String(api.ok))
  expect(content.problems).toEqual(api.problems)
  expect(content.volumes.map(v => v.name)).toEqual(api.volumes.map(v => v.name))
  for (const v of api.volumes) {
    const shown = content.volumes.find(x => x.name === v.name)
    expect(shown).toMatchObject({ present: String(v.files.present), offloaded: String(v.files.offloaded), missing: String(v.files.missing), durable: String(v.offload.durable), notDurable: String(v.offload.not_durable) })
    expect(shown?.targets.map(t => [t.name, t.kind])).toEqual(v.targets.map(t => [t.name, t.kind]))
    expect(shown?.groups.map(g => [g.target, g.cause, g.files])).toEqual(v.offload.groups.map(g => [g.target, g.cause, String(g.files)]))
    // the same words as the CLI's grouped report: summary and advice
    for (const [i, g] of v.offload.groups.entries()) {
      expect(shown?.groups[i]?.text).toContain(g.summary)
      expect(shown?.groups[i]?.text).toContain(g.advice)
    }
  }
  expect(content.peers.map(p => [p.name, p.nodeId, p.status])).toEqual(api.peers.map(p => [p.name ?? p.node_id, p.node_id, p.status]))
  expect(content.scripts).toBe(0)
}

describe.skipIf(CHROMIUM === undefined)('the status page in a real browser', () => {
  let fleet: StatusFleet
  let browser: Browser | undefined
  let url: string

  beforeAll(async () => {
    fleet = await startStatusFleet('cairn-page-')
    url = fleet.url
    const { chromium } = await import('playwright-core')
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await fleet?.stop()
  })

  it('shows what /api/status says: volumes, targets, counts, offload groups, peers, and has no script', async () => {
    const page = await (browser as Browser).newPage({ viewport: { width: 1280, height: 900 } })
    const answer = await page.goto(url)
    expect(answer?.status()).toBe(200)
    const content = await readPage(page)
    const api = JSON.parse((await httpGet(`${url}api/status`)).body) as ApiStatus
    expectMatches(content, api)
    const v = content.volumes[0]
    // nas covers the first index run but not the second; usb has nothing
    expect(v?.targets).toEqual([{ name: 'nas', kind: 'peer', lag: '1' }, { name: 'usb', kind: 'directory', lag: '2' }])
    expect(v?.groups.map(g => [g.target, g.cause])).toEqual(expect.arrayContaining([['nas', 'not-pushed'], ['usb', 'not-pushed']]))
    // nas has a live libp2p connection with this serve (scheduled pulls every second)
    expect(content.peers).toEqual([expect.objectContaining({ name: 'nas', online: 'true' })])
    expect(content.impacts).toEqual([{ peer: 'nas', components: '1' }])
    expect(content.runs).toBeGreaterThanOrEqual(3)
    // the failed push to usb is the one problem, and the page says so at the top
    expect(content.ok).toBe('false')
    expect(content.problems).toHaveLength(1)
    expect(content.problems[0]).toMatch(/^photos: the last push to usb (failed|was refused) /)
    await page.close()
  })

  it('renders completely with JavaScript disabled, and refreshes itself without it', async () => {
    const context = await (browser as Browser).newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } })
    const page = await context.newPage()
    await page.goto(url)
    const content = await readPage(page)
    expectMatches(content, JSON.parse((await httpGet(`${url}api/status`)).body) as ApiStatus)
    expect(await page.locator('meta[http-equiv="refresh"]').getAttribute('content')).toMatch(/^\d+$/)
    await context.close()
  })

  it('takes the screenshot the docs show', async () => {
    const page = await (browser as Browser).newPage({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' })
    await page.goto(url)
    const path = process.env.UPDATE_SCREENSHOTS === '1' ? SCREENSHOT : join(fleet.root, 'status-page.png')
    const png = await page.screenshot({ path, fullPage: true })
    expect(png.subarray(1, 4).toString()).toBe('PNG')
    expect(png.length).toBeGreaterThan(10_000)
    await page.close()
  })
})
