/**
 * The bearer token a non-loopback `[serve] http` requires: `<home>/http.token` (or `[serve]
 * http_token_file`), 32 random bytes as hex, mode 0600. `cairn init` writes it; a home made
 * before that gets one from `serve` on its first non-loopback start.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { HttpTokenFileError } from '../errors.js'

export const HTTP_TOKEN_BYTES = 32
export const MIN_TOKEN_CHARS = 16
export const MAX_TOKEN_CHARS = 512

/** Writes a new token file (refuses to overwrite one); returns the token. */
export function createTokenFile (path: string): string {
  const token = randomBytes(HTTP_TOKEN_BYTES).toString('hex')
  writeFileSync(path, token + '\n', { flag: 'wx', mode: 0o600 })
  return token
}

export interface LoadedToken {
  token: string
  created: boolean
  /** The file can be read by other users (mode & 0o077): worth a warning. */
  readableByOthers: boolean
}

/** Reads the token file, creating it (0600) when it does not exist. */
export function loadOrCreateToken (path: string): LoadedToken {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new HttpTokenFileError(path, `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`)
    return { token: createTokenFile(path), created: true, readableByOthers: false }
  }
  const token = text.trim()
  if (token.length < MIN_TOKEN_CHARS || token.length > MAX_TOKEN_CHARS || /\s/.test(token)) {
    throw new HttpTokenFileError(path, `holds ${token.length} character(s)${/\s/.test(token) ? ' with whitespace inside' : ''}, not a token of ${MIN_TOKEN_CHARS}-${MAX_TOKEN_CHARS} characters`)
  }
  return { token, created: false, readableByOthers: (statSync(path).mode & 0o077) !== 0 }
}
