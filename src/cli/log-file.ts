/**
 * `cairn serve` writes one JSON line per log record to `<home>/logs/cairn.log`, rotating at
 * LOG_FILE_MAX_BYTES and keeping LOG_FILES_KEPT older files (cairn.log.1 … .N), so a node that
 * runs for years never fills its disk with logs.
 */
import { appendFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { formatJsonLine, type LogSink } from '../logger.js'

export const LOG_FILE_MAX_BYTES = 16 * 1024 * 1024
export const LOG_FILES_KEPT = 3

export function rotatingFileSink (dir: string, maxBytes = LOG_FILE_MAX_BYTES, kept = LOG_FILES_KEPT): LogSink {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const file = join(dir, 'cairn.log')
  let size = existsSync(file) ? statSync(file).size : 0
  const rotate = (): void => {
    rmSync(`${file}.${kept}`, { force: true })
    for (let i = kept - 1; i >= 1; i--) if (existsSync(`${file}.${i}`)) renameSync(`${file}.${i}`, `${file}.${i + 1}`)
    if (existsSync(file)) renameSync(file, `${file}.1`)
    size = 0
  }
  return {
    minLevel: 'debug',
    write: (r) => {
      const line = formatJsonLine(r) + '\n'
      if (size + line.length > maxBytes && size > 0) rotate()
      appendFileSync(file, line, { mode: 0o600 })
      size += Buffer.byteLength(line)
    }
  }
}

/**
 * The log file for a command that is not `serve` (the audit trail of src/cli/audit.ts): the
 * rotating sink at `info`, which never fails the command. The first error creating the
 * directory or appending a line is reported once through `onFailure`; after it the sink
 * drops everything.
 */
export function guardedFileSink (dir: string, onFailure: (file: string, err: unknown) => void): LogSink {
  const file = join(dir, 'cairn.log')
  let inner: LogSink | undefined
  let failed = false
  const fail = (err: unknown): void => {
    failed = true
    onFailure(file, err)
  }
  return {
    minLevel: 'info',
    write: (r) => {
      if (failed) return
      try {
        inner ??= rotatingFileSink(dir)
        inner.write(r)
      } catch (err) {
        fail(err)
      }
    }
  }
}
