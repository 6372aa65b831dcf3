import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { homePaths } from '../../src/home.js'
import { silentLogger } from '../../src/logger.js'
import { openStore } from '../../src/store/store.js'
import { CAIRN_BIN, cairn, cairnJson } from '../helpers/cli.js'
import { tempDir } from '../helpers/store.js'
import { configure, enrollBothWays, eventually, initHome, startServe, type ServeProcess } from './fleet.js'

interface VectorRow { destination: string, origin: string, origin_run: number, verify_method: string | null, source: string }
interface PushRow { status: string, files_sent: number, bytes_sent: number, method: string, destination: string, advanced: Array<{ origin: string, origin_run: number }> }

function visibleFiles (dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter(e => e.isFile())
    .map(e => join(e.parentPath, e.name).slice(dir.length + 1))
    .filter(p => !p.split('/').some(s => s.startsWith('.cairn')))
    .sort()
}

describe('peer push between real `cairn serve` processes', () => {
  const serves: ServeProcess[] = []
  afterAll(() => { for (const s of serves) s.kill() })

  it('replicates photos to nas with a signed receipt, sends only what is new, and survives the receiver dying mid-transfer', async () => {
    const root = tempDir('cairn-e2e-push-')
    const laptop = { name: 'laptop', home: await initHome(root, 'laptop') }
    const nas = { name: 'nas', home: await initHome(root, 'nas') }
    mkdirSync(join(root, 'photos/2019'), { recursive: true })
    mkdirSync(join(root, 'nas-photos'))
    for (let i = 1; i <= 5; i++) writeFileSync(join(root, `photos/2019/p${i}.jpg`), `photo ${i} `.repeat(1000 * i))
    configure(laptop.home, `[volumes.photos]\npath = "${root}/photos"\npush_to = ["nas"]\noffload_requires = ["nas"]`)
    configure(nas.home, `[volumes.photos]\npath = "${root}/nas-photos"`)
    // nas's volume directory is empty: its operator marks it as the volume (an empty unmarked
    // root may be a bare mount point, and refuses pushes)
    expect(await cairnJson(nas.home, ['volume', 'init', 'photos'])).toMatchObject({ volume: 'photos', path: `${root}/nas-photos` })
    let nasServe = await startServe(nas.home)
    serves.push(nasServe)
    await enrollBothWays(laptop, nas)
    const ids = { laptop: (await cairnJson<{ node_id: string }>(laptop.home, ['id'])).node_id }

    const indexed = await cairnJson<{ run_id: number, files_added: number }>(laptop.home, ['index', 'photos'])
    expect(indexed.files_added).toBe(5)
    const [push] = await cairnJson<PushRow[]>(laptop.home, ['push', 'photos', '--to', 'nas'])
    expect(push).toMatchObject({ status: 'success', destination: 'nas', files_sent: 5, method: 'peer-sha256', advanced: [{ origin: 'laptop', origin_run: indexed.run_id }] })

    // identical bytes on nas, indexed there with origin = laptop
    for (let i = 1; i <= 5; i++) expect(readFileSync(join(root, `nas-photos/2019/p${i}.jpg`))).toEqual(readFileSync(join(root, `photos/2019/p${i}.jpg`)))
    const p = homePaths(nas.home)
    const nasStore = openStore({ path: p.db, clock: new ManualClock(Date.now() * 1e6), logger: silentLogger, backupsDir: p.backups })
    const vol = nasStore.volumes.get('photos')!
    const origins = new Set([...nasStore.files.live(vol.id).values()].map(f => `${nasStore.nodes.byRowId(f.originNodeId)?.nodeId}/${f.originRunId}`))
    nasStore.close()
    expect([...origins]).toEqual([`${ids.laptop}/${indexed.run_id}`])

    // the laptop records nas's receipt as nas's evidence
    const vector = await cairnJson<VectorRow[]>(laptop.home, ['vector', 'photos'])
    // nas's custody, in nas's signature; laptop's own custody of its copy is local
    expect(vector.filter(r => r.source !== 'local')).toEqual([expect.objectContaining({ destination: 'nas', origin: 'laptop', origin_run: indexed.run_id, verify_method: 'peer-sha256', source: 'nas' })])
    expect(vector.filter(r => r.source === 'local').map(r => r.destination)).toEqual(['laptop'])

    // a re-push after adding one file transfers only that file
    writeFileSync(join(root, 'photos/2019/new.jpg'), 'a new photo')
    const again = await cairnJson<{ run_id: number }>(laptop.home, ['index', 'photos'])
    const [repush] = await cairnJson<PushRow[]>(laptop.home, ['push', 'photos'])
    expect(repush).toMatchObject({ status: 'success', files_sent: 1, bytes_sent: 11, advanced: [{ origin: 'laptop', origin_run: again.run_id }] })

    // kill the receiver mid-transfer: nothing partial is visible, nothing advances
    writeFileSync(join(root, 'photos/big.bin'), Buffer.alloc(512 * 1024 * 1024, 7))
    const big = await cairnJson<{ run_id: number }>(laptop.home, ['index', 'photos'])
    const vectorBefore = await cairnJson<VectorRow[]>(laptop.home, ['vector', 'photos'])
    const pushing = spawn(process.execPath, [CAIRN_BIN, '--home', laptop.home, 'push', 'photos', '--json'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CAIRN_HOME: '' } })
    let pushOut = ''
    pushing.stdout.on('data', (d: Buffer) => { pushOut += d.toString() })
    const pushDone = new Promise<number | null>(resolve => pushing.on('exit', resolve))
    const staging = join(root, 'nas-photos/.cairn-staging')
    await eventually(async () => {
      if (!existsSync(staging)) return undefined
      const staged = readdirSync(staging, { recursive: true, withFileTypes: true }).filter(e => e.isFile())
      return staged.some(e => statSync(join(e.parentPath, e.name)).size > 1024 * 1024) ? true : undefined
    }, 30_000, 20)
    nasServe.kill()
    expect(await pushDone).toBe(1)
    const [died] = JSON.parse(pushOut) as PushRow[]
    expect(died?.status).toBe('failed')
    expect(visibleFiles(join(root, 'nas-photos'))).not.toContain('big.bin')
    expect(await cairnJson<VectorRow[]>(laptop.home, ['vector', 'photos'])).toEqual(vectorBefore)
    // nas's custody (its own signature) never reached the run that introduced big.bin
    expect(vectorBefore.find(r => r.source === 'nas')?.origin_run).toBeLessThan(big.run_id)

    // the restarted receiver cleans the stale staging directory
    nasServe = await startServe(nas.home)
    serves.push(nasServe)
    expect(readdirSync(staging)).toEqual([])
    const nasRuns = await cairnJson<Array<{ kind: string, status: string }>>(nas.home, ['runs'])
    expect(nasRuns.find(r => r.kind === 'receive' && r.status === 'aborted')).toBeDefined()
    // nas came back on another port (listen port 0 here): its new invite updates the address
    const invite = (await cairnJson<{ invite: string }>(nas.home, ['id'])).invite
    expect((await cairn(laptop.home, ['peer', 'add', 'nas', invite])).code).toBe(0)
    const final = await cairn(laptop.home, ['push', 'photos', '--json'])
    expect(final.code).toBe(0)
    expect((JSON.parse(final.stdout) as PushRow[])[0]).toMatchObject({ status: 'success', files_sent: 1, bytes_sent: 512 * 1024 * 1024 })
    expect(readFileSync(join(root, 'nas-photos/big.bin')).length).toBe(512 * 1024 * 1024)
    expect((await nasServe.stop()).code).toBe(0)
  }, 180_000)
})
