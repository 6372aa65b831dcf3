/** Ages and durations in the operator's notation ("45s", "10m", "3h", "12d"). */

/** An age from two nanosecond instants; "unknown" without the second. */
export function formatAge (nowNs: number, thenNs: number | null): string {
  if (thenNs === null) return 'unknown'
  const s = Math.max(0, Math.floor((nowNs - thenNs) / 1e9))
  if (s < 90) return `${s}s`
  if (s < 90 * 60) return `${Math.round(s / 60)}m`
  if (s < 36 * 3600) return `${Math.round(s / 3600)}h`
  return `${Math.round(s / 86400)}d`
}

/** A duration from milliseconds (the config's own notation). */
export function formatDuration (ms: number): string {
  return formatAge(ms * 1e6, 0)
}

/** A nanosecond timestamp as an ISO-8601 UTC instant to the second, or "-" for none. */
export function formatInstant (ns: number | null | undefined): string {
  if (ns === null || ns === undefined) return '-'
  return new Date(Math.floor(ns / 1e6)).toISOString().replace(/\.\d{3}Z$/, 'Z')
}
