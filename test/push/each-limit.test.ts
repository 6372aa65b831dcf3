import { describe, expect, it } from 'vitest'
import { eachLimit } from '../../src/push/each-limit.js'

const sleep = async (ms: number): Promise<void> => { await new Promise(r => setTimeout(r, ms)) }

describe('eachLimit', () => {
  it('never runs more than the limit at once and runs every item', async () => {
    let running = 0
    let most = 0
    const seen: number[] = []
    await eachLimit([1, 2, 3, 4, 5, 6, 7], 3, async (x) => {
      running++
      most = Math.max(most, running)
      await sleep(5)
      seen.push(x)
      running--
    })
    expect(most).toBe(3)
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7])
  })

  it('rejects with the first error only after every started job has ended, and starts no more', async () => {
    const ended: number[] = []
    const started: number[] = []
    const p = eachLimit([1, 2, 3, 4, 5], 2, async (x) => {
      started.push(x)
      if (x === 1) throw new Error('first')
      await sleep(50)
      ended.push(x)
    })
    await expect(p).rejects.toThrow('first')
    // job 2 was running when job 1 threw: it ended before the rejection
    expect(ended).toEqual([2])
    expect(started).toEqual([1, 2])
  })
})
