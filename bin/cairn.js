#!/usr/bin/env node
// The `cairn` command. The TypeScript sources are compiled to dist/ by `npm run build`,
// which `npm ci` runs through the `prepare` script.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const main = new URL('../dist/cli/main.js', import.meta.url)
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('cairn: the build output is missing; run `npm run build` in the cairn checkout\n')
  process.exit(1)
}
await import(main.href)
