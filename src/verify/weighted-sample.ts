/**
 * N items drawn at random without replacement, each with probability proportional to its size
 * (Efraimidis and Spirakis: keep the N largest keys u^(1/w), compared as ln(u)/w). An empty
 * file weighs one byte, so every file can be drawn. `random` is uniform in [0, 1).
 */
export function weightedSample<T extends { size: number }> (items: readonly T[], n: number, random: () => number): T[] {
  if (n >= items.length) return [...items]
  const keyed = items.map(item => ({ item, key: Math.log(Math.max(random(), Number.MIN_VALUE)) / Math.max(1, item.size) }))
  keyed.sort((a, b) => b.key - a.key)
  return keyed.slice(0, n).map(x => x.item)
}
