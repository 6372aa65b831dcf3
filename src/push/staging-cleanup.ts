/**
 * Removes staging directories (`<volume>/.cairn-staging/run-<id>`) left by runs that are no
 * longer running — a receiver or push killed mid-transfer. Staged files were never committed,
 * so removing them loses nothing; committed files are never touched.
 */
import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Config } from '../config/types.js'
import type { Logger } from '../logger.js'
import type { Store } from '../store/store.js'
import { STAGING_DIR } from './place-file.js'
import { crashPoint } from '../crash-point.js'

/** At serve start: every volume root and every destination's volume trees. */
export async function cleanStaleStaging (store: Store, config: Config, logger: Logger): Promise<number> {
  let removed = 0
  const roots = [...[...config.volumes.values()].map(v => v.path), ...[...config.destinations.values()].flatMap(d => [...config.volumes.keys()].map(v => join(d.path, v)))]
  for (const root of roots) removed += await cleanStaleStagingIn(store, root, logger)
  return removed
}

/**
 * One tree's stale staging (a push to a directory and a restore call it before they stage, so
 * a killed run's leftovers go with the next run, not only at the next serve start).
 */
export async function cleanStaleStagingIn (store: Store, root: string, logger: Logger): Promise<number> {
  let removed = 0
  {
    const staging = join(root, STAGING_DIR)
    let names: string[]
    try {
      names = await readdir(staging)
    } catch {
      return 0
    }
    for (const name of names) {
      const m = /^run-(\d+)$/.exec(name)
      if (m === null) continue
      const runId = Number(m[1])
      let running = false
      try {
        running = store.runs.get(runId).status === 'running'
      } catch {
        running = false
      }
      if (running) continue
      crashPoint('staging:remove-stale')
      await rm(join(staging, name), { recursive: true, force: true })
      removed++
      logger.info('removed a stale staging directory', { path: join(staging, name), run: runId })
    }
  }
  return removed
}
