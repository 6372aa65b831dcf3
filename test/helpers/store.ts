import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { ManualClock } from '../../src/clock.js'
import { createLogger, MemorySink } from '../../src/logger.js'
import { openStore, type Store, type StoreInit } from '../../src/store/store.js'

export interface TestStore {
  store: Store
  clock: ManualClock
  logs: MemorySink
}

/** A migrated in-memory store with a manual clock and a memory log sink. */
export function memoryStore (init: Partial<StoreInit> = {}): TestStore {
  const clock = init.clock instanceof ManualClock ? init.clock : new ManualClock()
  const logs = new MemorySink()
  const store = openStore({ path: ':memory:', clock, logger: createLogger([logs], clock), ...init })
  return { store, clock, logs }
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
