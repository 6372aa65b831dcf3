/**
 * The store: one better-sqlite3 connection, migrated on open, with one object per table
 * family. All methods are synchronous; each logical write is one transaction. Network I/O
 * and signature checks happen before a store method is called, never inside one.
 */
import Database from 'better-sqlite3'
import type { Clock } from '../clock.js'
import type { Logger } from '../logger.js'
import { packageVersion } from '../package-root.js'
import { loadMigrations, migrate, type MigrateResult, type Migration } from './migrations.js'
import { NodeStore } from './nodes.js'
import { ownerProbe, RunStore, type OwnerProbe, type ProcessProbe } from './runs.js'
import { currentOwner, systemProcessView, type RunOwner } from './run-owner.js'
import { UnlinkJournalStore } from './unlink-journal.js'
import { VolumeStore } from './volumes.js'
import { VectorStore } from './vector.js'
import { DestinationStore } from './destinations.js'
import { AssertionStore } from './assertions.js'
import { FileStore } from './files.js'
import { PlacementStore } from './placements.js'
import { HoldStore } from './holds.js'
import { ConflictStore } from './conflicts.js'
import { ScheduleStore } from './schedules.js'
import { PendingPeerStore } from './pending-peers.js'
import { crashInjectionActive } from '../crash-point.js'
import { instrumentStoreWrites } from './crash-points.js'

export const BUSY_TIMEOUT_MS = 5000
/**
 * SQLite's page cache per connection (its default is 2 MiB). A first index of 100,000 files
 * inserts hashes in random order into the contents index and paths into the files indexes; with
 * 2 MiB most inserts missed the cache and read pages back (measured: 100,000 file rows 7.2 s at
 * 2 MiB, 2.8 s at 32 MiB, loaded machine). It grows only as pages are used; a 100,000-file
 * database is about 28 MB.
 */
export const PAGE_CACHE_KIB = 32 * 1024

export interface StoreInit {
  /** A file path, or ':memory:' for tests. */
  path: string
  clock: Clock
  logger: Logger
  /** Where pre-migration snapshots go; required for file databases that may be migrated. */
  backupsDir?: string
  /** Migrations to apply; defaults to the package's migrations/ directory. */
  migrations?: Migration[]
  /** Recorded as the owner of runs this process begins. Defaults to this process (currentOwner()). */
  owner?: RunOwner
  /** Shorthand for `owner`: this process's identity under another pid (tests, the simulator's ghost runs). */
  pid?: number
  /** Whether a run's owner is gone. Defaults to judging it through /proc (src/store/run-owner.ts). */
  probeOwner?: OwnerProbe
  /** A pid-only liveness probe (tests): replaces probeOwner with `isAlive(owner.pid)`. */
  isAlive?: ProcessProbe
}

function ownerProbeOf (init: StoreInit): OwnerProbe {
  if (init.probeOwner !== undefined) return init.probeOwner
  const isAlive = init.isAlive
  if (isAlive !== undefined) return (owner) => isAlive(owner.pid) ? 'alive' : 'gone'
  return ownerProbe(systemProcessView)
}

export class Store {
  readonly db: Database.Database
  readonly clock: Clock
  readonly logger: Logger
  readonly migration: MigrateResult
  readonly runs: RunStore
  readonly nodes: NodeStore
  readonly volumes: VolumeStore
  readonly vector: VectorStore
  readonly destinations: DestinationStore
  readonly assertions: AssertionStore
  readonly files: FileStore
  readonly placements: PlacementStore
  readonly holds: HoldStore
  readonly unlinkJournal: UnlinkJournalStore
  readonly conflicts: ConflictStore
  readonly schedules: ScheduleStore
  readonly pendingPeers: PendingPeerStore

  constructor (db: Database.Database, init: StoreInit, migration: MigrateResult) {
    this.db = db
    this.clock = init.clock
    this.logger = init.logger
    this.migration = migration
    this.runs = new RunStore({ db, clock: init.clock, logger: init.logger.forComponent('runs'), owner: init.owner ?? currentOwner(init.pid), probe: ownerProbeOf(init) })
    this.nodes = new NodeStore(db, init.clock)
    this.volumes = new VolumeStore(db, init.clock)
    this.vector = new VectorStore(db, init.clock)
    this.destinations = new DestinationStore(db, init.clock)
    this.assertions = new AssertionStore(db, init.clock)
    this.files = new FileStore(db, init.clock)
    this.placements = new PlacementStore(db, init.clock)
    this.holds = new HoldStore(db, init.clock)
    this.unlinkJournal = new UnlinkJournalStore(db, init.clock, this.files)
    this.conflicts = new ConflictStore(db, init.clock)
    this.schedules = new ScheduleStore(db, init.clock)
    this.pendingPeers = new PendingPeerStore(db, init.clock)
  }

  close (): void {
    if (this.db.open) this.db.close()
  }
}

export function openStore (init: StoreInit): Store {
  const logger = init.logger.forComponent('store')
  const db = new Database(init.path)
  try {
    if (init.path !== ':memory:') db.pragma('journal_mode = WAL')
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
    db.pragma(`cache_size = -${PAGE_CACHE_KIB}`)
    db.pragma('foreign_keys = ON')
    // Evidence and revocations must survive a power cut once a command reported them.
    db.pragma('synchronous = FULL')
    const migrations = init.migrations ?? loadMigrations()
    const result = migrate(db, migrations, {
      path: init.path,
      backupsDir: init.path === ':memory:' ? undefined : init.backupsDir,
      clock: init.clock,
      logger,
      appVersion: packageVersion()
    })
    // test/crash/: a kill point at every store write (only when crash injection is on)
    if (crashInjectionActive()) instrumentStoreWrites(db)
    return new Store(db, { ...init, logger: init.logger }, result)
  } catch (err) {
    db.close()
    throw err
  }
}
