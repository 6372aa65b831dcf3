import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cairn, cairnJson } from '../helpers/cli.js'
import { makeHome } from '../helpers/home.js'
import { tempDir } from '../helpers/store.js'

interface InitJson { volume: string, marker_id: string, path: string, written: boolean, already_recorded: boolean, empty_root: boolean, files_recorded: number, reset_run_id: number | null, previous_marker_id: string | null }
interface StatusJson { ok: boolean, volumes: Array<{ name: string, identity: { marker_id: string | null, state: string, problem: string | null }, warnings: string[], notes: string[] }> }

function setup (): { home: string, root: string, photos: string } {
  const root = tempDir()
  const h = makeHome('nas', undefined, root)
  const photos = join(root, 'photos')
  mkdirSync(photos)
  h.configure(`[volumes.photos]\npath = "${photos}"\n`)
  return { home: h.home, root, photos }
}

describe('cairn volume init', () => {
  it('marks an empty volume directory on the operator\'s word, says it was empty, and prints {volume, marker_id, path} with --json', async () => {
    const { home, photos } = setup()
    const human = await cairn(home, ['volume', 'init', 'photos'])
    expect(human.code).toBe(0)
    expect(human.stdout).toContain('was empty')
    const again = await cairnJson<InitJson>(home, ['volume', 'init', 'photos'])
    expect(again).toMatchObject({ volume: 'photos', path: photos, written: false, already_recorded: true, empty_root: true, reset_run_id: null })
    expect(again.marker_id).toMatch(/^[0-9a-f]{32}$/)
    expect(readFileSync(join(photos, '.cairn-volume'), 'utf8')).toContain(again.marker_id)
    const s = await cairnJson<StatusJson>(home, ['status'])
    expect(s.volumes[0]?.identity).toEqual({ marker_id: again.marker_id, state: 'ok', problem: null })
  })

  it('shows an unmounted volume disk as the first problem in status, refuses index and a plain init, and --reset records a new marker in an audited run', async () => {
    const { home, root, photos } = setup()
    writeFileSync(join(photos, 'a.jpg'), 'alpha')
    const indexed = await cairnJson<{ marker_id: string, marker_written: boolean }>(home, ['index', 'photos'])
    expect(indexed.marker_written).toBe(true)
    // the disk goes away; its mount point stays, empty
    renameSync(photos, join(root, 'disk-away'))
    mkdirSync(photos)

    const s = JSON.parse((await cairn(home, ['status', '--json'])).stdout) as StatusJson
    expect(s.ok).toBe(false)
    expect(s.volumes[0]?.identity).toMatchObject({ marker_id: indexed.marker_id, state: 'refused' })
    expect(s.volumes[0]?.warnings[0]).toBe(s.volumes[0]?.identity.problem)
    expect(s.volumes[0]?.warnings[0]).toContain('.cairn-volume is missing')
    const human = await cairn(home, ['status'])
    expect(human.code).toBe(1)
    expect(human.stdout.split('\n').find(l => l.includes('.cairn-volume'))).toMatch(/^ {2}refused: /)

    const index = await cairn(home, ['index', 'photos', '--json'])
    expect(index.code).toBe(1)
    expect(index.stderr).toContain('check the mount')
    expect(index.stdout).toBe('')
    const plain = await cairn(home, ['volume', 'init', 'photos'])
    expect(plain.code).toBe(1)
    expect(plain.stderr).toContain('--reset')
    expect(existsSync(join(photos, '.cairn-volume'))).toBe(false)

    // the volume now lives on a new disk: the operator resets its identity
    writeFileSync(join(photos, 'a.jpg'), 'alpha')
    const reset = await cairnJson<InitJson>(home, ['volume', 'init', 'photos', '--reset'])
    expect(reset).toMatchObject({ volume: 'photos', written: true, previous_marker_id: indexed.marker_id, empty_root: false })
    expect(reset.marker_id).not.toBe(indexed.marker_id)
    const runs = await cairnJson<Array<{ id: number, kind: string, status: string, detail: Record<string, unknown> }>>(home, ['runs'])
    expect(runs.find(r => r.id === reset.reset_run_id)).toMatchObject({ kind: 'reset', status: 'success', detail: { action: 'volume-reset', previous_marker_id: indexed.marker_id, marker_id: reset.marker_id } })
    expect(await cairnJson(home, ['index', 'photos'])).toMatchObject({ status: 'success', marker_id: reset.marker_id, files_missing: 0 })
  })
})
