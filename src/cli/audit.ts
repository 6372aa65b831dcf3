/**
 * The audit trail of the commands that destroy data or change trust — offload, restore, peer
 * add, peer revoke, destination reset, destination adopt, vector rewind, volume init. Each
 * appends to `<home>/logs/cairn.log` (the rotating JSON-line file `serve` writes) one record
 * when it starts, with the names it acts on, and one with its outcome: the counts and run id
 * the command reports, its exit code, or the error that stopped it. Every record carries the
 * ISO `time`, `at_ns` and the pid. While a trail is open the command's own info, warn and
 * error logs go to the file too.
 *
 * A dry run (or a command that shows an impact and changes nothing without `--yes`) is not
 * logged: the trail records acts, not questions. A log that cannot be written never fails the
 * command: one warning on stderr, then the command goes on without it.
 */
import type { LogFields, Logger } from '../logger.js'

export class AuditTrail {
  #outcome: LogFields = {}
  #closed = false
  readonly #subject: LogFields

  constructor (private readonly logger: Logger, readonly command: string, fields: LogFields) {
    // the outcome repeats what the command acts on, so each record reads on its own
    this.#subject = fields
    this.logger.info(`${command} started`, { command, ...fields, argv: process.argv.slice(2), pid: process.pid })
  }

  /** Fields for the outcome record (counts, run id); later calls add to them. */
  outcome (fields: LogFields): void {
    this.#outcome = { ...this.#outcome, ...fields }
  }

  /** Writes the outcome record once; called by the command wrapper (src/cli/command.ts). */
  finish (exitCode: number): void {
    if (this.#closed) return
    this.#closed = true
    const fields = { command: this.command, ...this.#subject, ...this.#outcome, exit_code: exitCode, pid: process.pid }
    if (exitCode === 0) this.logger.info(`${this.command} finished`, fields)
    else this.logger.warn(`${this.command} finished with exit code ${exitCode}`, fields)
  }

  /** Writes the failure record once: the error that stopped the command. */
  fail (err: unknown, exitCode: number): void {
    if (this.#closed) return
    this.#closed = true
    this.logger.error(`${this.command} failed`, {
      command: this.command,
      ...this.#subject,
      ...this.#outcome,
      exit_code: exitCode,
      error: err instanceof Error ? err.name : 'unknown',
      message: err instanceof Error ? err.message : String(err),
      pid: process.pid
    })
  }
}
