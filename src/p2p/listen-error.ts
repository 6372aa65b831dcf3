/**
 * A listen address `serve` could not bind, in one plain line. libp2p reports every failed
 * address in one UnsupportedListenAddressesError whose text carries each address and the
 * system error (`/ip4/0.0.0.0/tcp/4701: Error: listen EADDRINUSE: ...`) along with advice
 * about its own internals; this reads the address and the error code back out of it, so the
 * operator sees which address, what is wrong and what to change — never libp2p's options.
 */
import { ListenError } from '../errors.js'

/** `  /ip4/127.0.0.1/tcp/4701: Error: listen EADDRINUSE: address already in use ...` */
const FAILED_ADDR_RE = /^\s*(\/\S+?): (?:[A-Za-z]*Error: )?(?:listen )?(E[A-Z]+)\b/gm

/** The first failed address of a libp2p listen error, as a ListenError; undefined for any other error. */
export function listenErrorFrom (err: unknown): ListenError | undefined {
  if (!(err instanceof Error) || err.name !== 'UnsupportedListenAddressesError') return undefined
  const failures = [...err.message.matchAll(FAILED_ADDR_RE)].map(m => ({ addr: m[1] as string, code: m[2] as string }))
  const first = failures[0]
  if (first === undefined) return new ListenError('(a configured address)', 'unknown', err)
  return new ListenError(first.addr, first.code, err, failures.slice(1).map(f => f.addr))
}
