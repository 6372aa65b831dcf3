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
