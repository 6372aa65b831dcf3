/**
 * Marker = identity (DESIGN "Destination identity", invariants 14 and 24): the marker names
 * its owner, only the owner writes, and one marker is one copy whatever it is called.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { nodeDirectoryFs } from '../../src/push/directory-fs.js'
import { ensureDestinationIdentity, MARKER_FILE, parseMarker } from '../../src/push/destination-marker.js'
import { resetDestination } from '../../src/store/revocation.js'
import { addPeer, addSelf, testKey } from '../helpers/nodes.js'
import { memoryStore, tempDir } from '../helpers/store.js'

function node (n: number, name: string) {
  const t = memoryStore()
  addSelf(t.store, n, name)
  return t.store
}

function root (): string {
  const dir = join(tempDir('cairn-marker-'), 'usb')
  mkdirSync(dir)
  return dir
}

async function refusal (p: Promise<unknown>): Promise<Error> {
  try {
    await p
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a refusal')
}

describe('a destination marker names its owner', () => {
  it('writes a marker with a random id, this node as owner and its label, and keys the destination by it', async () => {
    const store = node(1, 'laptop')
    const dir = root()
    const id = await ensureDestinationIdentity(store, nodeDirectoryFs, 'usb', dir)
    expect(id.created).toBe(true)
    expect(id.key).toBe(`dir:${id.markerId}`)
    expect(parseMarker(readFileSync(join(dir, MARKER_FILE), 'utf8'))).toEqual({ kind: 'v2', markerId: id.markerId, ownerNodeId: testKey(1).nodeId, label: 'usb' })
    expect(store.destinations.local('usb')?.key).toBe(id.key)
    expect((await ensureDestinationIdentity(store, nodeDirectoryFs, 'usb', dir)).key).toBe(id.key)
  })

  it('refuses a directory whose marker another node owns, saying who owns it and what to do', async () => {
    const laptop = node(1, 'laptop')
    const desk = node(3, 'desk')
    addPeer(desk, 1, 'laptop')
    const dir = root()
    await ensureDestinationIdentity(laptop, nodeDirectoryFs, 'share', dir)
    const err = await refusal(ensureDestinationIdentity(desk, nodeDirectoryFs, 'share', dir))
    expect(err.name).toBe('DestinationOwnedError')
    expect(err.message).toContain('belongs to node laptop')
    expect((err as Error & { hint?: string }).hint).toContain('push to laptop')
    expect(desk.destinations.local('share')).toBeUndefined()
  })

  it('lets exactly one of two nodes racing for one empty directory own it', async () => {
    const a = node(1, 'laptop')
    const b = node(3, 'desk')
    const dir = root()
    const results = await Promise.allSettled([ensureDestinationIdentity(a, nodeDirectoryFs, 'share', dir), ensureDestinationIdentity(b, nodeDirectoryFs, 'share', dir)])
    expect(results.filter(r => r.status === 'fulfilled')).toHaveLength(1)
    const lost = results.find(r => r.status === 'rejected') as PromiseRejectedResult
    expect((lost.reason as Error).name).toBe('DestinationOwnedError')
    const marker = parseMarker(readFileSync(join(dir, MARKER_FILE), 'utf8'))
    const winner = results[0]?.status === 'fulfilled' ? testKey(1).nodeId : testKey(3).nodeId
    expect(marker.kind === 'v2' && marker.ownerNodeId).toBe(winner)
  })

  it('refuses a marker that names no owner and that this node never recorded, and rewrites its own recorded one as v2', async () => {
    const store = node(1, 'laptop')
    const foreign = root()
    writeFileSync(join(foreign, MARKER_FILE), `cairn-destination-v1\n${'1'.repeat(32)}\n`)
    const err = await refusal(ensureDestinationIdentity(store, nodeDirectoryFs, 'usb', foreign))
    expect(err.name).toBe('DestinationOwnedError')
    expect((err as Error & { hint?: string }).hint).toContain('destination adopt usb')

    const mine = root()
    writeFileSync(join(mine, MARKER_FILE), `cairn-destination-v1\n${'2'.repeat(32)}\n`)
    store.destinations.recordLocal(store.nodes.self().id, 'mine', '2'.repeat(32))
    const id = await ensureDestinationIdentity(store, nodeDirectoryFs, 'mine', mine)
    expect(id.markerId).toBe('2'.repeat(32))
    expect(parseMarker(readFileSync(join(mine, MARKER_FILE), 'utf8'))).toMatchObject({ kind: 'v2', ownerNodeId: testKey(1).nodeId })
  })

  it('refuses an unreadable marker instead of writing over it', async () => {
    const store = node(1, 'laptop')
    const dir = root()
    writeFileSync(join(dir, MARKER_FILE), 'something else\n')
    const err = await refusal(ensureDestinationIdentity(store, nodeDirectoryFs, 'usb', dir))
    expect(err.name).toBe('DestinationMarkerError')
    expect(readFileSync(join(dir, MARKER_FILE), 'utf8')).toBe('something else\n')
  })

  it('refuses one marker under two names (a bind mount, a copied disk): one directory is one copy', async () => {
    const store = node(1, 'laptop')
    const a = root()
    const b = root()
    await ensureDestinationIdentity(store, nodeDirectoryFs, 'usb', a)
    writeFileSync(join(b, MARKER_FILE), readFileSync(join(a, MARKER_FILE)))
    const err = await refusal(ensureDestinationIdentity(store, nodeDirectoryFs, 'usb2', b))
    expect(err.name).toBe('DestinationAliasError')
    expect(err.message).toContain('same directory as destination usb')
    expect(store.destinations.local('usb2')).toBeUndefined()
  })

  it('refuses a missing or replaced marker until reset, then takes back its own marker or writes a new one', async () => {
    const store = node(1, 'laptop')
    const dir = root()
    const first = await ensureDestinationIdentity(store, nodeDirectoryFs, 'usb', dir)
    const text = readFileSync(join(dir, MARKER_FILE), 'utf8')
    writeFileSync(join(dir, MARKER_FILE), text.replace(first.markerId, '3'.repeat(32)))
    expect((await refusal(ensureDestinationIdentity(store, nodeDirectoryFs, 'usb', dir))).name).toBe('DestinationMarkerError')
    writeFileSync(join(dir, MARKER_FILE), text)
    resetDestination(store, 'usb')
    expect(store.destinations.local('usb')).toBeUndefined()
    const again = await ensureDestinationIdentity(store, nodeDirectoryFs, 'usb', dir)
    expect(again.key).toBe(first.key)
  })
})
