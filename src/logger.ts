/**
 * The injected logger. Library code receives a Logger (usually `logger.forComponent('name')`)
 * and never writes to the console itself. Where lines end up is decided by the entry point
 * through sinks: human lines on stderr, JSON lines in `<home>/logs/` when serving, memory in tests.
 */
import type { Clock } from './clock.js'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export type LogFields = Record<string, unknown>

export interface LogRecord {
  atNs: number
  level: LogLevel
  component: string
  msg: string
  fields: LogFields
}

export interface LogSink {
  minLevel: LogLevel
  write: (record: LogRecord) => void
}

export interface Logger {
  readonly component: string
  debug: (msg: string, fields?: LogFields) => void
  info: (msg: string, fields?: LogFields) => void
  warn: (msg: string, fields?: LogFields) => void
  error: (msg: string, fields?: LogFields) => void
  forComponent: (component: string) => Logger
}

export function isLogLevel (value: string): value is LogLevel {
  return value in LEVEL_RANK
}

export function levelAtLeast (level: LogLevel, min: LogLevel): boolean {
  return LEVEL_RANK[level] >= LEVEL_RANK[min]
}

export function createLogger (sinks: LogSink[], clock: Clock, component = 'cairn'): Logger {
  const emit = (level: LogLevel, msg: string, fields: LogFields = {}): void => {
    const record: LogRecord = { atNs: clock.nowNs(), level, component, msg, fields }
    for (const sink of sinks) {
      if (levelAtLeast(level, sink.minLevel)) {
        try {
          sink.write(record)
        } catch {
          // a broken sink must never take the node down
        }
      }
    }
  }
  return {
    component,
    debug: (msg, fields) => { emit('debug', msg, fields) },
    info: (msg, fields) => { emit('info', msg, fields) },
    warn: (msg, fields) => { emit('warn', msg, fields) },
    error: (msg, fields) => { emit('error', msg, fields) },
    forComponent: (child) => createLogger(sinks, clock, `${component}:${child}`)
  }
}

/** A logger that drops everything: for code paths that were given none. */
export const silentLogger: Logger = createLogger([], { nowNs: () => 0 })

/** Keeps records in memory; tests assert on them. */
export class MemorySink implements LogSink {
  readonly records: LogRecord[] = []
  constructor (readonly minLevel: LogLevel = 'debug') {}
  write (record: LogRecord): void {
    this.records.push(record)
  }

  messages (level?: LogLevel): string[] {
    return this.records.filter(r => level === undefined || r.level === level).map(r => r.msg)
  }
}

function renderValue (value: unknown): string {
  if (typeof value === 'string') return /\s/.test(value) || value === '' ? JSON.stringify(value) : value
  if (value instanceof Error) return JSON.stringify(value.message)
  if (typeof value === 'bigint') return value.toString()
  return JSON.stringify(value) ?? String(value)
}

/** A record's instant as ISO-8601 UTC with milliseconds: `2026-12-03T09:41:36.123Z`. */
export function isoTime (atNs: number): string {
  const ms = Math.floor(atNs / 1e6)
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(atNs)
}

/** `TIME level component: msg key=value ...` — one line per record. */
export function formatHumanLine (record: LogRecord): string {
  const pairs = Object.entries(record.fields).map(([k, v]) => `${k}=${renderValue(v)}`)
  const tail = pairs.length > 0 ? ' ' + pairs.join(' ') : ''
  return `${isoTime(record.atNs)} ${record.level} ${record.component}: ${record.msg}${tail}`
}

/**
 * One JSON object per record; bigint and Error values are made serialisable. `time` is the
 * ISO instant for people and tools; `at_ns` stays for scripts that read it (the same instant).
 */
export function formatJsonLine (record: LogRecord): string {
  return JSON.stringify({
    time: isoTime(record.atNs),
    at_ns: record.atNs,
    level: record.level,
    component: record.component,
    msg: record.msg,
    ...record.fields
  }, (_key, value: unknown) => {
    if (typeof value === 'bigint') return value.toString()
    if (value instanceof Error) return { name: value.name, message: value.message }
    return value
  })
}
