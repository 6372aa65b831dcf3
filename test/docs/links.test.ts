import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

/**
 * The README and docs/ link only to files in the repository: every relative link resolves to
 * a file that exists inside the checkout, and nothing points at ../shared (which a reader of
 * the repository alone does not have).
 */
const ROOT = realpathSync(fileURLToPath(new URL('../..', import.meta.url)))
const PAGES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter(f => f.endsWith('.md')).map(f => `docs/${f}`)]

/** `[text](target)` and `![alt](target)`, outside fenced code blocks. */
function relativeLinks (markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '')
  return [...prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map(m => m[1] as string)
    .filter(t => !/^[a-z][a-z0-9+.-]*:/i.test(t) && !t.startsWith('#'))
}

describe('links in README.md and docs/', () => {
  it.each(PAGES)('%s links only to files in the repository', (page) => {
    const text = readFileSync(join(ROOT, page), 'utf8')
    const broken: string[] = []
    for (const link of relativeLinks(text)) {
      const target = resolve(dirname(join(ROOT, page)), decodeURIComponent(link.replace(/#.*$/, '')))
      const inside = !relative(ROOT, target).startsWith('..')
      if (!inside || !existsSync(target)) broken.push(link)
    }
    expect(broken).toEqual([])
  })

  it.each(PAGES)('%s does not point at ../shared', (page) => {
    const text = readFileSync(join(ROOT, page), 'utf8')
    // docs/cli.md's note names where the contract it mirrors lives; that is no link
    const body = page === 'docs/cli.md' ? text.slice(text.indexOf('-->') + 3) : text
    expect(body.split('\n').filter(l => l.includes('../shared'))).toEqual([])
  })
})
