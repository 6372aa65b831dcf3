/**
 * Prometheus's naming rules, as `promtool check metrics` lints them: a counter ends in
 * `_total` and nothing else does; base units (seconds, bytes, ...) rather than milliseconds
 * or bits; no unit abbreviations (`_ms`, `_kb`), type names (`_gauge`), reserved suffixes
 * (`_bucket`, `_count`, `_sum`) or labels (`le`, `quantile`) on the wrong type, colons, or
 * camelCase. /metrics exports only families that pass, so a scrape always lints clean:
 * cairn's own names are chosen to pass, and a library metric that does not (libp2p names
 * some gauges `..._total`, prom-client's defaults too) is left out and logged once.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped'

const BASE_UNITS = new Set(['amperes', 'bytes', 'celsius', 'grams', 'joules', 'kelvin', 'meters', 'metres', 'seconds', 'volts'])
const NON_BASE_UNITS = new Set(['minutes', 'hours', 'days', 'weeks', 'kelvins', 'fahrenheit', 'rankine', 'inches', 'yards', 'miles', 'bits', 'calories', 'pounds', 'ounces'])
const UNIT_PREFIXES = ['pico', 'nano', 'micro', 'milli', 'centi', 'deci', 'deca', 'hecto', 'kilo', 'kibi', 'mega', 'mibi', 'giga', 'gibi', 'tera', 'tebi', 'peta', 'pebi']
const ABBREVIATIONS = ['s', 'ms', 'us', 'ns', 'sec', 'b', 'kb', 'mb', 'gb', 'tb', 'pb', 'm', 'h', 'd']
const TYPE_WORDS = ['counter', 'gauge', 'histogram', 'summary', 'gauge_histogram']
const CAMEL = /[a-z][A-Z]/

const hasWord = (name: string, word: string): boolean => name.includes(`_${word}_`) || name.endsWith(`_${word}`)

/** The first unit word of a name and whether it is a base unit; undefined when it names none. */
function unitOf (name: string): { unit: string, base: boolean } | undefined {
  for (const part of name.split('_')) {
    if (BASE_UNITS.has(part)) return { unit: part, base: true }
    if (NON_BASE_UNITS.has(part)) return { unit: part, base: false }
    for (const p of UNIT_PREFIXES) {
      if (part.startsWith(p) && (BASE_UNITS.has(part.slice(p.length)) || NON_BASE_UNITS.has(part.slice(p.length)))) return { unit: part, base: false }
    }
  }
  return undefined
}

/** What promtool would say about a metric family; empty when it passes. */
export function namingProblems (name: string, type: MetricType, labelNames: readonly string[], help: string): string[] {
  const out: string[] = []
  const lower = name.toLowerCase()
  if (help.trim() === '') out.push('no help text')
  const total = name.endsWith('_total')
  if (type === 'counter' && !total) out.push('counter metrics should have "_total" suffix')
  if (type !== 'counter' && type !== 'untyped' && total) out.push('non-counter metrics should not have "_total" suffix')
  const unit = unitOf(name)
  if (unit !== undefined && !unit.base) out.push(`non-base unit "${unit.unit}"`)
  if (ABBREVIATIONS.some(a => hasWord(lower, a))) out.push('abbreviated unit')
  for (const t of TYPE_WORDS) if (hasWord(lower, t)) out.push(`type "${t}" in the name`)
  if (name.includes(':')) out.push('colon in the name')
  if (CAMEL.test(name) || labelNames.some(l => CAMEL.test(l))) out.push('camelCase')
  if (type !== 'untyped') {
    if (type !== 'histogram' && (name.endsWith('_bucket') || labelNames.includes('le'))) out.push('histogram suffix or label on another type')
    if (type !== 'histogram' && type !== 'summary' && (name.endsWith('_count') || name.endsWith('_sum'))) out.push('_count or _sum on a non-histogram')
    if (type !== 'summary' && labelNames.includes('quantile')) out.push('quantile label on a non-summary')
  }
  return out
}

/** A registry's view of one family (prom-client's metric objects carry these fields). */
export interface FamilyInfo {
  name: string
  help: string
  type: string
  labelNames?: readonly string[]
}

const asType = (t: string): MetricType => (t === 'counter' || t === 'gauge' || t === 'histogram' || t === 'summary') ? t : 'untyped'

/** The families that would fail the lint, with why. */
export function unlintable (families: readonly FamilyInfo[]): Array<{ name: string, problems: string[] }> {
  return families
    .map(f => ({ name: f.name, problems: namingProblems(f.name, asType(String(f.type)), f.labelNames ?? [], f.help) }))
    .filter(f => f.problems.length > 0)
}
