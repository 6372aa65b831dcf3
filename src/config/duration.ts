/** Durations in the config and on the command line: `45s`, `10m`, `1h30m`, `30d`, `2w`. */

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000
}

const PART_RE = /(\d+)(ms|s|m|h|d|w)/g
const WHOLE_RE = /^(?:\d+(?:ms|s|m|h|d|w))+$/

export const DURATION_RULE = 'a duration such as "45s", "10m", "1h30m", "30d" or "2w"'

/** Returns milliseconds, or undefined when the text is not a positive duration. */
export function parseDurationMs (text: string): number | undefined {
  if (!WHOLE_RE.test(text)) return undefined
  let total = 0
  for (const match of text.matchAll(PART_RE)) {
    const amount = Number(match[1])
    const unit = UNIT_MS[match[2] ?? '']
    if (unit === undefined || !Number.isSafeInteger(amount)) return undefined
    total += amount * unit
  }
  if (!Number.isSafeInteger(total) || total <= 0) return undefined
  return total
}
