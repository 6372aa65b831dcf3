import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

/**
 * docs/cli.md is the repository's copy of the CLI contract (../shared/CLI.md beside the
 * checkout): the README links to it, so it must say what the contract says. Where ../shared is
 * absent (a checkout on its own) there is nothing to compare and the test says so.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const SHARED = fileURLToPath(new URL('../../../shared/CLI.md', import.meta.url))
const MARKER = '<!-- the contract text follows, verbatim -->\n'

const shared = existsSync(SHARED)

describe('docs/cli.md', () => {
  it.skipIf(!shared)(shared ? 'carries the contract text of ../shared/CLI.md verbatim' : 'is compared with ../shared/CLI.md (skipped: ../shared/CLI.md is absent beside this checkout)', () => {
    const copy = readFileSync(`${ROOT}/docs/cli.md`, 'utf8')
    expect(copy).toContain(MARKER)
    const text = copy.slice(copy.indexOf(MARKER) + MARKER.length)
    // on a difference: cp ../shared/CLI.md into docs/cli.md below the marker line
    expect(text).toBe(readFileSync(SHARED, 'utf8'))
  })

  it('says at the top that it mirrors the contract', () => {
    const copy = readFileSync(`${ROOT}/docs/cli.md`, 'utf8')
    expect(copy.slice(0, copy.indexOf(MARKER))).toContain('mirrors the CLI contract')
  })
})
