/**
 * Progress on long work: a bar on stderr when stderr is a TTY, nothing otherwise (logs and
 * --json output stay clean).
 */
import cliProgress from 'cli-progress'
import type { CliContext } from './context.js'
import { formatBytes } from './output.js'

export interface Progress {
  update: (value: number, total?: number) => void
  stop: () => void
}

const NONE: Progress = { update: () => {}, stop: () => {} }

export function progressBar (ctx: CliContext, label: string, unit: 'files' | 'bytes'): Progress {
  if (!ctx.out.stderrIsTty) return NONE
  const started = ctx.clock.nowNs()
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: true,
    format: `${label} [{bar}] {percentage}% {shown} {rate}`,
    barsize: 30
  }, cliProgress.Presets.shades_classic)
  let began = false
  return {
    update: (value, total) => {
      const elapsed = Math.max((ctx.clock.nowNs() - started) / 1e9, 0.001)
      const payload = unit === 'bytes'
        ? { shown: `${formatBytes(value)}/${formatBytes(total ?? 0)}`, rate: `${formatBytes(value / elapsed)}/s` }
        : { shown: `${value}/${total ?? '?'}`, rate: `${Math.round(value / elapsed)}/s` }
      if (!began) {
        bar.start(total ?? 0, value, payload)
        began = true
      } else {
        if (total !== undefined) bar.setTotal(total)
        bar.update(value, payload)
      }
    },
    stop: () => { if (began) bar.stop() }
  }
}
