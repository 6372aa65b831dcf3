/**
 * Interrupts of a one-shot command (SIGINT, SIGTERM): the CLI aborts an AbortSignal with an
 * Interrupted reason; the entry points that loop stop before their next file, record what they
 * proved, remove their staging and finish their run `aborted` (docs/runs.md, "Interrupts").
 */
export class Interrupted extends Error {
  override name = 'Interrupted' as const
  constructor (readonly signal: 'SIGINT' | 'SIGTERM') {
    super(`interrupted by ${signal}`)
  }
}

/** The signal's name for messages ("SIGINT"), or "interrupt" for another abort reason. */
export function interruptName (signal: AbortSignal | undefined): string {
  const reason: unknown = signal?.reason
  return reason instanceof Interrupted ? reason.signal : 'interrupt'
}
