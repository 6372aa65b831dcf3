import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { createLogger, MemorySink } from '../../src/logger.js'
import Database from 'better-sqlite3'
import { openStore, Store, type StoreInit } from '../../src/store/store.js'

export interface TestStore {
  store: Store
  clock: ManualClock
  logs: MemorySink
}

let migratedImage: Buffer | undefined

/**
 * A migrated in-memory store with a manual clock and a memory log sink. The default case
 * starts from a cached image of a freshly migrated database, which is the same bytes
 * `openStore` would produce, only without re-running the migrations for every test.
 */
export function memoryStore (init: Partial<StoreInit> = {}): TestStore {
  const clock = init.clock instanceof ManualClock ? init.clock : new ManualClock()
  const logs = new MemorySink()
  const full: StoreInit = { path: ':memory:', clock, logger: createLogger([logs], clock), ...init }
  if (init.migrations !== undefined || init.path !== undefined) return { store: openStore(full), clock, logs }
  if (migratedImage === undefined) {
    const fresh = openStore(full)
    migratedImage = fresh.db.serialize()
    fresh.close()
  }
  const db = new Database(migratedImage)
  db.pragma('foreign_keys = ON')
  const version = db.pragma('user_version', { simple: true }) as number
  return { store: new Store(db, full, { from: version, to: version, snapshot: undefined }), clock, logs }
}

const dirs: string[] = []

/** A temporary directory removed after the current test. */
export function tempDir (prefix = 'cairn-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  dirs.push(dir)
  return dir
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})
