/**
 * Runs `job` over `items` in order of start, at most `limit` at once. When a job throws, no
 * further item starts, and the promise rejects with the first error only once every job already
 * started has ended: a caller's failure path never runs beside a commit still moving files.
 */
export async function eachLimit<T> (items: readonly T[], limit: number, job: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  let failed = false
  let first: unknown
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, async () => {
    while (!failed && next < items.length) {
      try {
        await job(items[next++] as T)
      } catch (err) {
        if (!failed) first = err
        failed = true
      }
    }
  }))
  if (failed) throw first
}
