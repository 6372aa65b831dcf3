/**
 * Printing. Only src/cli/ writes to stdout/stderr. `--json` commands print exactly one JSON
 * document on stdout; human output may use colour, but only on a TTY. Writes go through the
 * guards of src/cli/stdio.ts: a reader that went away ends output, never the command.
 */
import { writeStderr, writeStdout } from './stdio.js'

export interface Output {
  json: (value: unknown) => void
  line: (text?: string) => void
  /** A line on stderr (progress, warnings meant for a human). */
  err: (text: string) => void
  readonly stdoutIsTty: boolean
  readonly stderrIsTty: boolean
}

export function processOutput (): Output {
  return {
    json: (value) => { writeStdout(JSON.stringify(value, null, 2) + '\n') },
    line: (text = '') => { writeStdout(text + '\n') },
    err: (text) => { writeStderr(text + '\n') },
    stdoutIsTty: process.stdout.isTTY === true,
    stderrIsTty: process.stderr.isTTY === true
  }
}

const ANSI = { bold: '\x1b[1m', dim: '\x1b[2m', red: '\x1b[31m', green: '\x1b[32m', yellow: '\x1b[33m', reset: '\x1b[0m' }
export type Colour = 'bold' | 'dim' | 'red' | 'green' | 'yellow'

export function paint (enabled: boolean, colour: Colour, text: string): string {
  return enabled && process.env.NO_COLOR === undefined ? `${ANSI[colour]}${text}${ANSI.reset}` : text
}

// eslint-disable-next-line no-control-regex
const ANSI_RE = /\x1b\[[0-9;]*m/g

function visibleWidth (s: string): number {
  return [...s.replace(ANSI_RE, '')].length
}

/** Left-aligned columns separated by two spaces; the header row first. */
export function table (header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(visibleWidth(h), ...rows.map(r => visibleWidth(r[i] ?? ''))))
  const render = (cells: string[]): string => cells.map((c, i) => i === cells.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - visibleWidth(c))).join('  ').trimEnd()
  return [render(header), ...rows.map(render)]
}

export { formatAge, formatDuration, formatInstant } from '../age.js'

export function formatBytes (n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++ }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`
}
