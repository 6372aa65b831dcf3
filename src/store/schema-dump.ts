/** Renders the live schema as SQL text for the golden file src/store/schema.sql. */
import type Database from 'better-sqlite3'
import { userVersion } from './migrations.js'

export function dumpSchema (db: Database.Database): string {
  const rows = db.prepare(`
    SELECT type, name, sql FROM sqlite_master
    WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'
    ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'trigger' THEN 2 ELSE 3 END, name`)
    .all() as Array<{ type: string, name: string, sql: string }>
  const header = `-- Generated from migrations/ by test/store/schema.test.ts. Do not edit.\n-- Regenerate: UPDATE_SCHEMA=1 npm test -- schema\n-- user_version = ${userVersion(db)}\n`
  return header + rows.map(r => `\n${r.sql.trim()};\n`).join('')
}
