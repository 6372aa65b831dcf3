/**
 * Review 13 — the gate must open for a correctly configured honest node (AGENTS.md "A gate
 * that never opens is the second worst"; docs/destinations.md "One physical copy counts once").
 *
 * Attack (honest operator): laptop pushes to `[destinations.usb]`. The operator renames it in
 * cairn.toml to `[destinations.backup]` (same path, same disk) — `usb` no longer exists in the
 * config. The next push to `backup` finds the marker, which the registry still has live under the
 * name `usb`, and refuses with DestinationAliasError. Its hint says "remove one of usb and backup
 * from the config (or `cairn destination reset usb` if it moved)": the first is already done, and
 * `cairn destination reset usb` refuses because `usb` "is not a [destinations.*] entry"
 * (src/cli/destination.ts directoryNamed). The operator can only push again after re-adding the
 * old name to the config just to reset it. Until then `backup` has no key, so the gate answers
 * `not-pushed` for every file: a gate that never opens after an ordinary rename, with a hint
 * that does not work.
 *
 * Suggested fix: when the name that holds the marker is no longer a configured destination,
 * move the marker to the new name (audited, evidence kept: it is the same directory by its
 * marker), or let `destination reset`/a `destination rename OLD NEW` act on recorded names that
 * are not in the config, and make the hint name a command that works.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Config } from '../../src/config/types.js'
import { indexVolume } from '../../src/index/index-volume.js'
import { offloadVolume } from '../../src/offload/offload.js'
import { pushToDirectory } from '../../src/push/directory-push.js'
import { inProcessNode, type InProcessNode } from '../helpers/fleet.js'
import { tempDir } from '../helpers/store.js'

const nodes: InProcessNode[] = []
afterEach(async () => { for (const n of nodes.splice(0)) await n.close() })

describe('a directory destination renamed in the config', () => {
  it('pushes to and opens the gate on a destination after it is renamed in the config, same path, the old name gone', async () => {
    const root = tempDir('cairn-review13-rename-')
    for (const d of ['photos', 'usb']) mkdirSync(join(root, d))
    writeFileSync(join(root, 'photos/p.jpg'), 'the photo')
    const laptop = inProcessNode(root, 'laptop', `[volumes.photos]\npath = "${root}/photos"\npush_to = ["usb"]\noffload_requires = ["usb"]\n[destinations.usb]\ntype = "directory"\npath = "${root}/usb"\n`)
    nodes.push(laptop)
    const volume = laptop.config.volumes.get('photos')!
    await indexVolume({ store: laptop.store, volume, quick: false, logger: laptop.logger })
    expect((await pushToDirectory({ store: laptop.store, volume, destination: laptop.config.destinations.get('usb')!, shallow: false, logger: laptop.logger })).status).toBe('success')

    // the operator renames [destinations.usb] to [destinations.backup]
    const backup = { name: 'backup', type: 'directory' as const, path: join(root, 'usb') }
    const renamedVolume = { ...volume, pushTo: ['backup'], offloadRequires: ['backup'] }
    const renamed: Config = { ...laptop.config, volumes: new Map([['photos', renamedVolume]]), destinations: new Map([['backup', backup]]) }
    // while both names are configured, one marker under two names refuses
    const both = await pushToDirectory({ store: laptop.store, volume: renamedVolume, destination: backup, shallow: false, logger: laptop.logger, configured: () => true })
    expect(both.refusal?.name).toBe('DestinationAliasError')
    // the push as `cairn push` makes it, knowing which names the config has now
    const push = await pushToDirectory({ store: laptop.store, volume: renamedVolume, destination: backup, shallow: false, logger: laptop.logger, configured: (n) => renamed.destinations.has(n) })
    expect({ status: push.status, refusal: push.refusal?.name }).toEqual({ status: 'success', refusal: undefined })
    const dry = await offloadVolume({ store: laptop.store, config: renamed, volume: renamedVolume, selectors: ['.'], dryRun: true, perFile: false, logger: laptop.logger })
    expect(dry.durable).toBe(1)
  }, 30_000)
})
