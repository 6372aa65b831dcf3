import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { dumpSchema } from '../../src/store/schema-dump.js'
import { memoryStore } from '../helpers/store.js'

const GOLDEN = fileURLToPath(new URL('../../src/store/schema.sql', import.meta.url))
const UPDATE_COMMAND = 'UPDATE_SCHEMA=1 npm test -- schema'

describe('schema', () => {
  it('matches the golden src/store/schema.sql (changes to the schema are deliberate)', () => {
    const { store } = memoryStore()
    const actual = dumpSchema(store.db)
    store.close()
    if (process.env.UPDATE_SCHEMA === '1') {
      writeFileSync(GOLDEN, actual)
      return
    }
    let expected = ''
    try {
      expected = readFileSync(GOLDEN, 'utf8')
    } catch {
      expected = ''
    }
    if (actual !== expected) {
      throw new Error(`the schema produced by migrations/ differs from src/store/schema.sql; if the change is deliberate, run: ${UPDATE_COMMAND}`)
    }
  })

  it('declares every table STRICT', () => {
    const { store } = memoryStore()
    const tables = store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as Array<{ name: string }>
    expect(tables.length).toBeGreaterThan(0)
    const list = store.db.prepare('PRAGMA table_list').all() as Array<{ name: string, strict: number }>
    const notStrict = tables.filter(t => list.find(l => l.name === t.name)?.strict !== 1).map(t => t.name)
    store.close()
    expect(notStrict).toEqual([])
  })

  it('turns foreign keys on for every connection', () => {
    const { store } = memoryStore()
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1)
    store.close()
  })
})
