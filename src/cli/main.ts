#!/usr/bin/env node
import '../shim.js'
import { Command, CommanderError } from 'commander'
import { CairnError, UsageError } from '../errors.js'
import { packageVersion } from '../package-root.js'
import { errorExitCode, takeExitCode } from './command.js'
import { registerId } from './id.js'
import { registerInit } from './init.js'
import { registerRuns } from './runs.js'
import { registerServe } from './serve.js'
import { registerVector } from './vector.js'
import { registerDestination } from './destination.js'
import { registerPeer } from './peer.js'
import { registerPull } from './pull.js'
import { registerIndex } from './index-volume.js'
import { registerPush } from './push.js'
import { registerVerify } from './verify.js'
import { registerOffload } from './offload.js'
import { registerRestore } from './restore.js'
import { registerLs } from './ls.js'
import { registerStatus } from './status.js'
import { registerVolume } from './volume.js'
import { guardStdio, stdoutFailure, writeStderr, writeStdout } from './stdio.js'

export function buildProgram (): Command {
  const program = new Command('cairn')
  program
    .description('cairn: replicate a home-lab fleet\'s volumes, prove durability, offload safely')
    .version(packageVersion(), '-V, --version')
    .option('--home <dir>', 'the node home (default: $CAIRN_HOME or ~/.cairn)')
    .showHelpAfterError('(run `cairn --help` for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => { writeStdout(s) }, writeErr: (s) => { writeStderr(s) } })
  registerInit(program)
  registerId(program)
  registerServe(program)
  registerRuns(program)
  registerVector(program)
  registerDestination(program)
  registerPeer(program)
  registerPull(program)
  registerIndex(program)
  registerPush(program)
  registerVerify(program)
  registerOffload(program)
  registerRestore(program)
  registerLs(program)
  registerStatus(program)
  registerVolume(program)
  return program
}

function oneLine (text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim()
}

/** Runs the CLI and returns the exit code: 0 done, 1 failed or refused, 2 usage error. */
export async function main (argv: string[]): Promise<number> {
  guardStdio()
  const code = await run(argv)
  // a result that could not be written (not a reader that went away: a full disk) is no success
  const failure = await stdoutFailure()
  if (failure !== undefined && code === 0) {
    writeStderr(`cairn: cannot write the output: ${failure.code ?? failure.message}\n`)
    return 1
  }
  return code
}

async function run (argv: string[]): Promise<number> {
  const program = buildProgram()
  try {
    await program.parseAsync(argv)
    return takeExitCode()
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; everything else commander refuses (an unknown command or
      // option, a missing argument, no command at all) is a usage error
      return err.exitCode === 0 ? 0 : 2
    }
    if (errorExitCode(err) === 2) {
      const hint = err instanceof UsageError && err.hint !== undefined ? ` (${err.hint})` : ''
      writeStderr(`cairn: ${oneLine((err as Error).message)}${hint}\n`)
      return 2
    }
    if (err instanceof CairnError) {
      const hint = err.hint === undefined ? '' : ` (${err.hint})`
      writeStderr(`cairn: ${oneLine(err.message)}${hint}\n`)
      if (process.env.CAIRN_DEBUG === '1' && err.stack !== undefined) writeStderr(err.stack + '\n')
      return 1
    }
    const message = err instanceof Error ? err.message : String(err)
    writeStderr(`cairn: internal error: ${oneLine(message)}${process.env.CAIRN_DEBUG === '1' ? '' : ' (set CAIRN_DEBUG=1 for the stack trace)'}\n`)
    if (process.env.CAIRN_DEBUG === '1' && err instanceof Error && err.stack !== undefined) writeStderr(err.stack + '\n')
    return 1
  }
}

const code = await main(process.argv)
process.exitCode = code
