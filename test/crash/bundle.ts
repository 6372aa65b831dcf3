/**
 * The children's start-up is most of a kill point's cost (ESM loading of a few hundred dist/ and
 * node_modules files). The harness bundles the built dist/cli/main.js once into one file with
 * esbuild (tsx's own dependency; better-sqlite3 stays external, its native addon loads as usual)
 * and runs that with plain `node`: the same compiled code, loaded about twice as fast. It lives
 * under dist/, so the package root (and migrations/) resolve exactly as from dist/.
 * Without esbuild, the children run bin/cairn.js.
 */
import { statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { CAIRN_BIN } from '../helpers/cli.js'

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))
export const BUNDLE = fileURLToPath(new URL('../../dist/crash/cairn.mjs', import.meta.url))

export async function bundleCli (): Promise<string> {
  statSync(MAIN) // the build must exist (npm run build)
  try {
    const esbuild = await import('esbuild')
    await esbuild.build({
      entryPoints: [MAIN],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: BUNDLE,
      external: ['better-sqlite3'],
      logLevel: 'error',
      // CommonJS dependencies inside an ESM bundle need a require
      banner: { js: "import { createRequire as __cairnCreateRequire } from 'node:module'; const require = __cairnCreateRequire(import.meta.url);" }
    })
    return BUNDLE
  } catch {
    return CAIRN_BIN
  }
}
