/**
 * Names resolve once and never fall back (DESIGN invariant 23): a target name that is no
 * configured destination, no peer (live or revoked) and no PEER/NAME of one is refused by the
 * commands that act on targets, naming the file, the key and the closest known name.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cairn } from '../helpers/cli.js'
import { makeHome } from '../helpers/home.js'
import { tempDir } from '../helpers/store.js'

function setup (requires: string): { home: string, root: string } {
  const root = tempDir()
  const h = makeHome('laptop', undefined, root)
  mkdirSync(join(root, 'photos'), { recursive: true })
  mkdirSync(join(root, 'usb'))
  writeFileSync(join(root, 'photos/p1.jpg'), 'one')
  h.configure(`[volumes.photos]\npath = "${root}/photos"\npush_to = ["usb"]\noffload_requires = ${requires}\n[destinations.usb]\ntype = "directory"\npath = "${root}/usb"`)
  return { home: h.home, root }
}

describe('target names in the config', () => {
  it('refuses push and offload for a name that resolves to nothing, with the file, the key and the closest known name', async () => {
    const { home } = setup('["usb", "ubs"]')
    for (const args of [['push', 'photos'], ['offload', 'photos', '.', '--dry-run']]) {
      const r = await cairn(home, args)
      expect(r.code).toBe(1)
      expect(r.stderr).toContain('cairn.toml: volumes.photos.offload_requires: "ubs" is not a [destinations.*] entry')
      expect(r.stderr).toContain('did you mean "usb"?')
    }
  })

  it('warns in status instead of refusing, so the operator can still look', async () => {
    const { home } = setup('["usb", "offsite"]')
    const r = await cairn(home, ['status', '--json'])
    const doc = JSON.parse(r.stdout) as { volumes: Array<{ warnings: string[] }> }
    expect(doc.volumes[0]?.warnings.join('\n')).toContain('offsite names no configured destination, enrolled peer or PEER/NAME')
  })
})
