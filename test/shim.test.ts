import { describe, expect, it, vi } from 'vitest'

describe('Promise.withResolvers shim', () => {
  it('provides Promise.withResolvers whose promise settles through the returned functions', async () => {
    const P = Promise as unknown as { withResolvers: <T>() => { promise: Promise<T>, resolve: (v: T) => void, reject: (e: unknown) => void } }
    expect(typeof P.withResolvers).toBe('function')
    const a = P.withResolvers<number>()
    a.resolve(7)
    await expect(a.promise).resolves.toBe(7)
    const b = P.withResolvers<number>()
    b.reject(new Error('no'))
    await expect(b.promise).rejects.toThrow('no')
  })

  it('is feature-detected: it never replaces an implementation the runtime already has', async () => {
    const P = Promise as unknown as { withResolvers: unknown }
    const installed = P.withResolvers
    const native = (): void => {}
    P.withResolvers = native
    try {
      vi.resetModules()
      await import('../src/shim.js')
      expect(P.withResolvers).toBe(native)
    } finally {
      P.withResolvers = installed
    }
  })
})
