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

/** The shortest rendering of a positive number of milliseconds, e.g. 5400000 → "1h30m". */
export function formatDurationMs (ms: number): string {
  if (ms <= 0) return '0s'
  const parts: string[] = []
  let rest = Math.round(ms)
  for (const unit of ['w', 'd', 'h', 'm', 's', 'ms']) {
    const size = UNIT_MS[unit] ?? 1
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`)
      rest %= size
    }
  }
  return parts.join('')
}
