import { describe, expect, it } from 'vitest'
import { escapeHtml, html } from '../../src/http/html.js'

describe('html', () => {
  it('escapes every interpolated string, so markup in names and paths renders as text', () => {
    const name = '<img src=x onerror=alert(1)>"\'&'
    expect(html`<td title="${name}">${name}</td>`.text).toBe('<td title="&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;">&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;</td>')
    expect(escapeHtml('</script>')).toBe('&lt;/script&gt;')
  })

  it('nests built fragments without escaping them twice, and renders lists and empty values', () => {
    const rows = ['a<', 'b'].map(x => html`<li>${x}</li>`)
    expect(html`<ul>${rows}</ul>${null}${undefined}${false}${0}`.text).toBe('<ul><li>a&lt;</li><li>b</li></ul>0')
  })
})
