import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const CAIRN_BIN = fileURLToPath(new URL('../../bin/cairn.js', import.meta.url))

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `cairn --home HOME ...args` as a real process; bounded by a timeout. */
export async function cairn (home: string, args: string[], options: { timeoutMs?: number, env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CAIRN_BIN, '--home', home, ...args], {
      env: { ...process.env, CAIRN_HOME: '', NO_COLOR: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => { child.kill('SIGKILL') }, options.timeoutMs ?? 30_000)
    child.on('error', (err) => { clearTimeout(timer); reject(err) })
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
}

/** Runs a cairn command that must succeed with --json and returns the parsed document. */
export async function cairnJson<T = unknown> (home: string, args: string[], options: { timeoutMs?: number, env?: NodeJS.ProcessEnv } = {}): Promise<T> {
  const r = await cairn(home, [...args, '--json'], options)
  if (r.code !== 0) throw new Error(`cairn ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`)
  return JSON.parse(r.stdout) as T
}

export interface ClosedPipeResult {
  code: number | null
  /** What was read before the pipe was closed (the first line, or nothing). */
  firstLine: string
  stderr: string
}

/**
 * Runs `cairn --home HOME ...args` with stdout a pipe this side closes: right away
 * (`when: 'at-once'`, so the first write already finds no reader) or after the first line
 * (`when: 'after-first-line'`, as `cairn ... | head -1` does). Bounded by a timeout.
 */
export async function cairnClosedStdout (home: string, args: string[], when: 'at-once' | 'after-first-line', options: { timeoutMs?: number } = {}): Promise<ClosedPipeResult> {
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CAIRN_BIN, '--home', home, ...args], {
      env: { ...process.env, CAIRN_HOME: '', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let firstLine = ''
    let stderr = ''
    if (when === 'at-once') child.stdout.destroy()
    else {
      child.stdout.on('data', (d: Buffer) => {
        if (child.stdout.destroyed) return
        firstLine += d.toString()
        const nl = firstLine.indexOf('\n')
        if (nl >= 0) {
          firstLine = firstLine.slice(0, nl)
          child.stdout.destroy()
        }
      })
    }
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => { child.kill('SIGKILL') }, options.timeoutMs ?? 30_000)
    child.on('error', (err) => { clearTimeout(timer); reject(err) })
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, firstLine, stderr }) })
  })
}
