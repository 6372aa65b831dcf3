/**
 * Glue between commander and the commands: builds the CliContext from the global options,
 * runs the handler, records its exit code and always closes what the context opened.
 */
import type { Command } from 'commander'
import { CliContext, type GlobalOptions } from './context.js'
import { InvalidMultiaddrError, UsageError } from '../errors.js'
import { multiaddrProblem, suggestMultiaddr } from '../p2p/multiaddr-advice.js'
import { stdoutFailure } from './stdio.js'

/** What a handler returns: the exit code (0 did what was asked, 1 failed or refused). */
export type ExitCode = number

let lastExitCode: ExitCode = 0

export function takeExitCode (): ExitCode {
  const code = lastExitCode
  lastExitCode = 0
  return code
}

export function action<A extends unknown[]> (
  handler: (ctx: CliContext, ...args: A) => Promise<ExitCode> | ExitCode
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command
    const ctx = new CliContext(command.optsWithGlobals<GlobalOptions>())
    try {
      lastExitCode = await handler(ctx, ...(args.slice(0, -1) as A))
      // an interrupted command exits as a signalled one would (130 / 143), after its report
      const by = ctx.interruptedBy()
      if (by !== undefined) lastExitCode = by === 'SIGINT' ? 130 : 143
      // a result that could not be written (a full disk, not a reader gone) exits 1 (main.ts):
      // the audit records the code the process exits with
      if (lastExitCode === 0 && await stdoutFailure() !== undefined) lastExitCode = 1
      ctx.endAudit(lastExitCode)
    } catch (err) {
      ctx.endAudit(errorExitCode(err), err)
      throw err
    } finally {
      ctx.close()
    }
  }
}

/** The exit code of a command that threw: 2 for a usage error, 1 for everything else (src/cli/main.ts). */
export function errorExitCode (err: unknown): 1 | 2 {
  return err instanceof UsageError || err instanceof InvalidOptionValue ? 2 : 1
}

/** Parses a positive integer option; commander passes (value, previous). */
export function positiveInt (name: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value)
    if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidOptionValue(`${name} expects a positive whole number, got ${JSON.stringify(value)}`)
    return n
  }
}

export class InvalidOptionValue extends Error {
  override name = 'InvalidOptionValue'
}

/** Collects a repeatable option into an array. */
export function collect (value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value]
}

/**
 * Collects a repeatable multiaddr option (`--addr`, `--listen`), refusing one that is not a
 * TCP multiaddr with the reason, what a multiaddr is and what was probably meant (exit 2).
 */
export function collectMultiaddr (option: string, allowPeerId: boolean): (value: string, previous: string[] | undefined) => string[] {
  return (value, previous) => {
    const problem = multiaddrProblem(value, { allowPeerId })
    if (problem !== undefined) throw new InvalidMultiaddrError(option, value, problem, suggestMultiaddr(value) ?? null)
    return [...(previous ?? []), value]
  }
}
