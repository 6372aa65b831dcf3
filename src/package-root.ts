/**
 * The cairn checkout (or installed package) root, found from this module's location so it
 * works both from src/ under vitest and from dist/ after the build. Migrations live there.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

let cached: string | undefined

export function packageRoot (): string {
  if (cached !== undefined) return cached
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }
      if (pkg.name === 'cairn') {
        cached = dir
        return dir
      }
    }
    const parent = dirname(dir)
    if (parent === dir) throw new Error('cannot find the cairn package root above ' + fileURLToPath(import.meta.url))
    dir = parent
  }
}

export function packageVersion (): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: string }
  return pkg.version ?? '0.0.0'
}
