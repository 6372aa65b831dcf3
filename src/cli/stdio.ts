/**
 * stdout and stderr as the CLI writes them, guarded against a reader that went away
 * (`cairn runs | head -1`). The first EPIPE marks the stream closed and every later write to
 * it is dropped: the command goes on, finishes its work (a closed pipe never interrupts an
 * offload midway) and exits with the code it would have had, with no stack. Any other write
 * error on stdout (a full disk under `> file`) is remembered: the result was not delivered, so
 * a command that would have exited 0 exits 1 (src/cli/main.ts).
 */

interface StreamState {
  closed: boolean
  /** A write error other than a closed reader. */
  failure: NodeJS.ErrnoException | undefined
}

const state: Record<'stdout' | 'stderr', StreamState> = {
  stdout: { closed: false, failure: undefined },
  stderr: { closed: false, failure: undefined }
}

/** Codes meaning "the reader is gone": nothing to report, nothing more to write. */
const READER_GONE = new Set(['EPIPE', 'ERR_STREAM_DESTROYED'])

let guarded = false

/** Installs the guards; the CLI calls it before it writes anything. Idempotent. */
export function guardStdio (): void {
  if (guarded) return
  guarded = true
  for (const name of ['stdout', 'stderr'] as const) {
    process[name].on('error', (err: NodeJS.ErrnoException) => {
      state[name].closed = true
      if (!READER_GONE.has(err.code ?? '')) state[name].failure ??= err
    })
  }
}

export function writeStdout (text: string): void {
  if (!state.stdout.closed) process.stdout.write(text)
}

export function writeStderr (text: string): void {
  if (!state.stderr.closed) process.stderr.write(text)
}

export function stdoutClosed (): boolean {
  return state.stdout.closed
}

/**
 * The write error stdout met, other than a reader that went away. Write errors are reported
 * asynchronously, so this waits one turn of the event loop for the last write's.
 */
export async function stdoutFailure (): Promise<NodeJS.ErrnoException | undefined> {
  await new Promise<void>((resolve) => { setImmediate(resolve) })
  return state.stdout.failure
}
