import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // CLI and e2e tests run the compiled dist/; build it once before any test file runs.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Two cores: real-process e2e fleets are heavy, so keep parallel files bounded.
    maxWorkers: 2,
    reporters: process.env.CI === 'true' ? ['default'] : ['default']
  }
})
