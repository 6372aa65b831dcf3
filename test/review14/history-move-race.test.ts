/**
 * Review of issue 14 (invariants 25, 27): moving a receiver's prior file to history is
 * `moveNoReplace` = link(path, history) then unlink(path). The unlink removes whatever the
 * PATH names at that moment, not the file that was checked and linked: an editor's atomic save
 * (rename of a temp file over the path) landing between the link and the unlink is deleted,
 * with no copy anywhere. The exact unlink (invariant 27) renames to a quarantine name first for
 * this very reason; the history move does not.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'

// the user's save, injected right after cairn's link(2) into .cairn-history (before its unlink)
const hook: { onHistoryLink?: (from: string, to: string) => void } = {}
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>()
  const link = async (from: string, to: string): Promise<void> => {
    await real.link(from, to)
    if (String(to).includes('.cairn-history') && hook.onHistoryLink !== undefined) {
      const h = hook.onHistoryLink
      hook.onHistoryLink = undefined
      h(String(from), String(to))
    }
  }
  // (cairn now moves a prior file into history with one rename; the save then lands right after it)
  const rename = async (from: string, to: string): Promise<void> => {
    await real.rename(from, to)
    if (String(to).includes('.cairn-history') && hook.onHistoryLink !== undefined) {
      const h = hook.onHistoryLink
      hook.onHistoryLink = undefined
      h(String(from), String(to))
    }
  }
  return { ...real, link, rename, default: { ...real, link, rename } }
})

const { indexVolume } = await import('../../src/index/index-volume.js')
const { pushToPeer } = await import('../../src/push/peer-push.js')
const { enroll, inProcessNode } = await import('../helpers/fleet.js')
const { tempDir } = await import('../helpers/store.js')
type Node = ReturnType<typeof inProcessNode>

const nodes: Node[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

function allFileContents (dir: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...allFileContents(p))
    else if (e.isFile()) out.push(readFileSync(p, 'utf8'))
  }
  return out
}

describe('review 14: a receiver\'s history move never deletes a file it did not check', () => {
  it('keeps a user\'s atomic save that lands between the history link and the unlink of the checked file', async () => {
    const root = tempDir('cairn-r14-hist-')
    mkdirSync(join(root, 'photos')); mkdirSync(join(root, 'nas-photos'))
    const laptop = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${root}/photos"\n`)
    const nas = inProcessNode(root, 'nas', `[volumes.photos]\npath = "${root}/nas-photos"\n`)
    nodes.push(laptop, nas)
    await nas.start({ pushFrameDeadlineMs: 2000 })
    await nas.initVolumes()
    await laptop.start()
    enroll(laptop, nas); enroll(nas, laptop)
    const lv = laptop.config.volumes.get('photos')!
    const push = async (): Promise<Awaited<ReturnType<typeof pushToPeer>>> => await pushToPeer({ store: laptop.store, volume: lv, peer: laptop.store.nodes.byNodeId(nas.key.nodeId)!, host: laptop.node!.host, logger: laptop.logger })

    writeFileSync(join(root, 'photos/a.txt'), 'v1')
    await indexVolume({ store: laptop.store, volume: lv, quick: false, logger: laptop.logger })
    expect((await push()).status).toBe('success')
    await new Promise(r => setTimeout(r, 20))
    writeFileSync(join(root, 'photos/a.txt'), 'v2, edited on the laptop')
    await indexVolume({ store: laptop.store, volume: lv, quick: false, logger: laptop.logger })

    // the nas user saves a.txt (editor: write temp, rename over) right after cairn linked the
    // checked v1 into history and before cairn unlinks the path
    let saved = false
    // (the save lands at the user's path, whatever name cairn links from)
    hook.onHistoryLink = (_from, to) => {
      if (!to.endsWith('a.txt')) return
      const tmp = join(root, 'nas-photos/.a.txt.swp')
      writeFileSync(tmp, 'THE NAS USER\'S SAVE')
      renameSync(tmp, join(root, 'nas-photos/a.txt'))
      saved = true
    }
    await push()
    expect(saved).toBe(true)
    // the save is somewhere under the volume (at its path, or kept aside): never deleted
    expect(allFileContents(join(root, 'nas-photos'))).toContain('THE NAS USER\'S SAVE')
    expect(existsSync(join(root, 'nas-photos/a.txt')) && statSync(join(root, 'nas-photos/a.txt')).isFile()).toBe(true)
  }, 60_000)
})
