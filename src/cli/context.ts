/**
 * What every command gets: the home's paths, an injected clock and logger, and lazily opened
 * config, key and store. Commands ask for what they need; nothing is opened twice.
 */
import { Interrupted } from '../interrupt.js'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { systemClock, type Clock } from '../clock.js'
import { loadConfig } from '../config/load.js'
import type { Config } from '../config/types.js'
import { homePaths, requireHome, type HomePaths } from '../home.js'
import { readKeyFile, type NodeKey } from '../identity/node-key.js'
import { createLogger, formatHumanLine, isLogLevel, type LogFields, type Logger, type LogLevel, type LogSink } from '../logger.js'
import { checkTargetNames } from '../naming.js'
import { recoverInterruptedUnlinks } from '../offload/unlink-recovery.js'
import { settleStaleUnclaimed } from '../evidence/unclaimed.js'
import { openStore, type Store } from '../store/store.js'
import { processOutput, type Output } from './output.js'
import { writeStderr } from './stdio.js'
import { namingSink } from './log-names.js'
import { guardedFileSink } from './log-file.js'
import { AuditTrail } from './audit.js'

export interface GlobalOptions {
  home?: string
}

export function resolveHomeDir (flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag !== undefined && flag !== '') return flag
  if (env.CAIRN_HOME !== undefined && env.CAIRN_HOME !== '') return env.CAIRN_HOME
  return join(homedir(), '.cairn')
}

export function stderrSink (minLevel: LogLevel): LogSink {
  return { minLevel, write: (r) => { writeStderr(formatHumanLine(r) + '\n') } }
}

export function envLogLevel (fallback: LogLevel): LogLevel {
  const v = process.env.CAIRN_LOG_LEVEL
  return v !== undefined && isLogLevel(v) ? v : fallback
}

interface InterruptState {
  controller: AbortController
  by: 'SIGINT' | 'SIGTERM' | undefined
  remove: () => void
}

export class CliContext {
  readonly paths: HomePaths
  readonly clock: Clock = systemClock
  readonly out: Output = processOutput()
  logger: Logger
  #sinks: LogSink[]
  #config: Config | undefined
  #key: NodeKey | undefined
  #store: Store | undefined
  #interrupt: InterruptState | undefined
  #fileSink: LogSink | undefined
  #audit: AuditTrail | undefined

  constructor (global: GlobalOptions) {
    this.paths = homePaths(resolveHomeDir(global.home))
    this.#sinks = [this.#named(stderrSink(envLogLevel('warn')))]
    this.logger = createLogger(this.#sinks, this.clock)
  }

  /** Every sink names the nodes whose ids its records carry, once the store is open (src/cli/log-names.ts). */
  #named (sink: LogSink): LogSink {
    return namingSink(sink, (nodeId) => this.#store?.nodes.byNodeId(nodeId)?.name ?? undefined)
  }

  /** Replaces the log sinks (serve logs at info and to a file). */
  setSinks (sinks: LogSink[]): void {
    this.#sinks.splice(0, this.#sinks.length, ...sinks.map(s => this.#named(s)))
  }

  /**
   * Opens this command's audit trail in `<home>/logs/cairn.log` (src/cli/audit.ts): the start
   * record now, the outcome when the command ends. From here on the command's own info+ logs
   * go to the file too. A file that cannot be written warns once on stderr and fails nothing.
   */
  audit (command: string, fields: LogFields): AuditTrail {
    if (this.#fileSink === undefined) {
      const file = this.#named(guardedFileSink(this.paths.logs, (path, err) => {
        const why = (err as NodeJS.ErrnoException | undefined)?.code ?? (err instanceof Error ? err.message : String(err))
        this.out.err(`cairn: warning: cannot write the log ${path} (${why}); the command goes on without its log record`)
      }))
      this.#fileSink = file
      this.#sinks.push(file)
    }
    this.#audit = new AuditTrail(createLogger([this.#fileSink], this.clock, 'cairn:audit'), command, fields)
    return this.#audit
  }

  /** The outcome record of the audit trail, if one was opened (the command wrapper calls it). */
  endAudit (exitCode: number, err?: unknown): void {
    if (err === undefined) this.#audit?.finish(exitCode)
    else this.#audit?.fail(err, exitCode)
  }

  /**
   * The config, validated on its own. Names that depend on enrollment (push_to peers) are
   * checked where they are used: `push` refuses an unknown or revoked target, `serve` and
   * `status` warn. Every other command keeps working while a peer is not enrolled yet or was
   * just revoked — that is exactly when the operator needs them.
   */
  config (): Config {
    if (this.#config === undefined) {
      requireHome(this.paths)
      this.#config = loadConfig(this.paths.config)
    }
    return this.#config
  }

  /**
   * The config with every target name of its volumes resolved against enrollment (invariant
   * 23): a name that is no destination, peer or PEER/NAME is refused with the closest known
   * name. For the commands that act on targets (push, offload).
   */
  checkedConfig (): Config {
    const config = this.config()
    checkTargetNames(this.store(), config)
    return config
  }

  key (): NodeKey {
    if (this.#key === undefined) {
      requireHome(this.paths)
      this.#key = readKeyFile(this.paths.key)
    }
    return this.#key
  }

  store (): Store {
    if (this.#store === undefined) {
      requireHome(this.paths)
      this.#store = openStore({ path: this.paths.db, clock: this.clock, logger: this.logger, backupsDir: this.paths.backups })
      // an unlink a killed offload left half done is finished or undone before anything reads
      // the store (DESIGN invariant 27); every command (serve too) opens the store here
      recoverInterruptedUnlinks({ store: this.#store, logger: this.logger })
      // files a killed receive or offload had stopped claiming are claimed again where they are
      // in place (src/evidence/unclaimed.ts); its run is reaped first when its process is gone
      this.#store.runs.reapOrphans()
      settleStaleUnclaimed(this.#store, this.logger)
    }
    return this.#store
  }

  /**
   * The interrupt of this command (docs/runs.md, "Interrupts"). Asking for it takes over
   * SIGINT and SIGTERM: the first aborts the signal (the run stops before its next file,
   * records what it proved, removes its staging and ends `aborted`); a second exits at once
   * (the next command's reaper and recovery finish the rest). Without it a signal kills the
   * process as usual.
   */
  get signal (): AbortSignal {
    if (this.#interrupt === undefined) {
      const controller = new AbortController()
      const state: InterruptState = { controller, by: undefined, remove: () => {} }
      const on = (sig: 'SIGINT' | 'SIGTERM') => (): void => {
        if (state.by !== undefined) {
          this.out.err(`cairn: ${sig} again: stopping now; the next command finishes the cleanup`)
          process.exit(sig === 'SIGINT' ? 130 : 143)
        }
        state.by = sig
        this.out.err(`cairn: ${sig}: stopping after the current file, recording what was done (${sig === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'} again stops at once)`)
        controller.abort(new Interrupted(sig))
      }
      const onInt = on('SIGINT')
      const onTerm = on('SIGTERM')
      process.on('SIGINT', onInt)
      process.on('SIGTERM', onTerm)
      state.remove = () => { process.off('SIGINT', onInt); process.off('SIGTERM', onTerm) }
      this.#interrupt = state
    }
    return this.#interrupt.controller.signal
  }

  /** The signal that interrupted this command, if one did. */
  interruptedBy (): 'SIGINT' | 'SIGTERM' | undefined {
    return this.#interrupt?.by
  }

  close (): void {
    this.#interrupt?.remove()
    this.#store?.close()
    this.#store = undefined
  }
}
