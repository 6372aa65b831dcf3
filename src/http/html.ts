/**
 * HTML built from strings, with every interpolated value escaped: paths, names and errors on
 * the status page come from the operator's config and from peers. `html` is a tagged
 * template whose values are escaped unless they are already `Html` (built by `html` itself).
 */
export class Html {
  constructor (readonly text: string) {}
  toString (): string { return this.text }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export function escapeHtml (s: string): string {
  return s.replace(/[&<>"']/g, c => ESCAPES[c] ?? c)
}

export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[]

function render (v: HtmlValue): string {
  if (v instanceof Html) return v.text
  if (Array.isArray(v)) return v.map(x => render(x as HtmlValue)).join('')
  if (v === null || v === undefined || v === false) return ''
  return escapeHtml(String(v))
}

export function html (strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0] ?? ''
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '')
  return new Html(out)
}

/** A constant of the source inserted verbatim (the stylesheet); never for data. */
export function constantHtml (text: string): Html {
  return new Html(text)
}
