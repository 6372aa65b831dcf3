/**
 * `cairn offload photos . --dry-run --per-file --json`, run inside the harness's process: the
 * same library calls the CLI makes (src/cli/offload.ts), without a child's start-up cost. A dry
 * run writes nothing and asks no peer for a hold.
 */
import { systemClock } from '../../src/clock.js'
import { offloadJson } from '../../src/cli/offload.js'
import { loadConfig } from '../../src/config/load.js'
import { homePaths } from '../../src/home.js'
import { silentLogger } from '../../src/logger.js'
import { checkTargetNames } from '../../src/naming.js'
import { offloadVolume } from '../../src/offload/offload.js'
import { openStore } from '../../src/store/store.js'
import type { DryRun } from './checks.js'

export async function dryRunOffload (home: string): Promise<{ report?: DryRun, error?: string }> {
  const paths = homePaths(home)
  const store = openStore({ path: paths.db, clock: systemClock, logger: silentLogger, backupsDir: paths.backups })
  try {
    const config = loadConfig(paths.config)
    checkTargetNames(store, config)
    const volume = config.volumes.get('photos')
    if (volume === undefined) return { error: 'no volume photos' }
    const r = await offloadVolume({ store, config, volume, selectors: ['.'], dryRun: true, perFile: true, logger: silentLogger })
    return { report: offloadJson(r) as DryRun }
  } catch (err) {
    return { error: `${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}` }
  } finally {
    store.close()
  }
}
