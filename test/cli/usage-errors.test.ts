import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { cairn } from '../helpers/cli.js'
import { makeHome, type TestHome } from '../helpers/home.js'
import { testKey } from '../helpers/nodes.js'

/**
 * Exit codes over every command (CLI.md, "Global"): 2 for a usage error — an unknown command
 * or option, a missing argument, a bad option value, options that contradict each other — and
 * 1 for a refusal (the command line is fine, the state says no). Usage is checked before
 * anything is opened, so a bad command line is 2 whatever the state. Either way the reason is
 * on stderr without a stack, and stdout stays empty.
 */

const nas = testKey(71)
let root: string
let h: TestHome

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cairn-usage-'))
  h = makeHome('laptop', undefined, root)
  mkdirSync(join(root, 'photos'))
  mkdirSync(join(root, 'usb'))
  writeFileSync(join(root, 'photos/p1.jpg'), 'one')
  h.configure(`[volumes.photos]\npath = "${root}/photos"\npush_to = ["usb"]\noffload_requires = ["usb"]\n[destinations.usb]\ntype = "directory"\npath = "${root}/usb"`)
  const store = h.openStore()
  store.nodes.enrollPeer(nas.nodeId, 'nas', ['/ip4/127.0.0.1/tcp/1'])
  store.close()
})

afterAll(() => { rmSync(root, { recursive: true, force: true }) })

type Case = [string, string[], 0 | 1 | 2, string]

const ID = testKey(72).nodeId

const cases: Case[] = [
  // commander: no command, unknown command or option, missing or extra arguments
  ['no command at all', [], 2, 'Usage: cairn'],
  ['a group without its subcommand', ['peer'], 2, 'Usage: cairn peer'],
  ['an unknown command', ['bogus'], 2, "unknown command 'bogus'"],
  ['an unknown option', ['runs', '--bogus'], 2, "unknown option '--bogus'"],
  ['a missing option value', ['runs', '--limit'], 2, 'argument missing'],
  ['an extra argument', ['status', 'extra'], 2, 'too many arguments'],
  ['a missing argument', ['offload'], 2, "missing required argument 'volume'"],
  ['a missing required option', ['verify', 'photos'], 2, "required option '--at <target>'"],
  ['restore without --from', ['restore', 'photos', 'p1.jpg'], 2, "required option '--from <source>'"],
  // bad values
  ['runs --limit x', ['runs', '--limit', 'x'], 2, '--limit expects a positive whole number'],
  ['offload with no selector', ['offload', 'photos'], 2, 'at least one path'],
  ['offload with no selector, of an unknown volume (usage first)', ['offload', 'nope'], 2, 'at least one path'],
  ['offload of an absolute path', ['offload', 'photos', '/etc'], 2, 'absolute paths are not allowed'],
  ['offload of ..', ['offload', 'photos', '../x'], 2, '".."'],
  ['offload --older-than soon', ['offload', 'photos', '.', '--older-than', 'soon'], 2, '--older-than: expected'],
  ['restore of an absolute path', ['restore', 'photos', '/etc', '--from', 'usb'], 2, 'absolute paths are not allowed'],
  ['restore --from a name that is nothing', ['restore', 'photos', 'p1.jpg', '--from', 'nowhere'], 2, '--from nowhere'],
  ['ls of ..', ['ls', 'photos', '../x'], 2, '".."'],
  ['verify --sample 0', ['verify', 'photos', '--at', 'usb', '--sample', '0'], 2, '--sample 0'],
  ['vector rewind RUN x', ['vector', 'rewind', 'photos', 'usb', 'laptop', 'x', '--yes'], 2, 'RUN expects a positive whole number'],
  ['peer add with a bad name', ['peer', 'add', 'Bad', ID], 2, 'NAME: expected'],
  ['peer add with a bad node id', ['peer', 'add', 'desk', '12D3'], 2, 'NODE_ID: "12D3" is not a valid node id'],
  ['peer add with a mangled invite', ['peer', 'add', 'desk', 'cairn1.abc.00000000'], 2, 'INVITE: not a valid cairn invite'],
  ['peer add --addr HOST:PORT', ['peer', 'add', 'desk', ID, '--addr', '192.168.1.5:4701'], 2, 'did you mean --addr /ip4/192.168.1.5/tcp/4701?'],
  ['peer add of this node itself', ['peer', 'add', 'me', '$SELF'], 2, 'this node itself'],
  ['destination reset of a name that is no destination', ['destination', 'reset', 'nope', '--yes'], 2, 'nope is not a [destinations.*] entry'],
  ['init --name with capitals', ['--home', '$FRESH', 'init', '--name', 'Bad'], 2, '--name: expected'],
  ['init --listen HOST:PORT', ['--home', '$FRESH', 'init', '--listen', '0.0.0.0:4701'], 2, 'did you mean --listen /ip4/0.0.0.0/tcp/4701?'],
  // options that contradict each other
  ['peer revoke --dry-run --yes', ['peer', 'revoke', 'nas', '--dry-run', '--yes'], 2, 'contradict'],
  ['destination reset --dry-run --yes', ['destination', 'reset', 'usb', '--dry-run', '--yes'], 2, 'contradict'],
  ['index --rehash --shallow', ['index', 'photos', '--rehash', '--shallow'], 2, 'contradict'],
  ['push --shallow to a peer', ['push', 'photos', '--to', 'nas', '--shallow'], 2, '--shallow applies to directory destinations'],
  // refusals: a well-formed command the state says no to
  ['offload of an unknown volume', ['offload', 'nope', '.'], 1, 'no volume named nope'],
  ['peer revoke without --yes', ['peer', 'revoke', 'nas'], 1, 'nothing changed: re-run with --yes'],
  ['peer revoke of an unknown name', ['peer', 'revoke', 'ghost', '--yes'], 1, 'no node known as ghost'],
  ['peer add of an enrolled node under another name', ['peer', 'add', 'nas2', nas.nodeId], 1, 'already enrolled as nas'],
  ['destination reset without --yes', ['destination', 'reset', 'usb'], 1, 'nothing changed: re-run with --yes'],
  ['destination adopt of a directory with no marker', ['destination', 'adopt', 'usb'], 1, 'has no marker'],
  ['init of an existing home', ['init'], 1, 'already holds a cairn home'],
  ['pull of an unknown peer', ['pull', 'ghost'], 1, 'no node known as ghost'],
  ['volume init of an unknown volume', ['volume', 'init', 'nope'], 1, 'no volume named nope'],
  ['index of an unknown volume', ['index', 'nope'], 1, 'nope'],
  // help and version are not errors
  ['--help', ['--help'], 0, ''],
  ['peer --help', ['peer', '--help'], 0, ''],
  ['help offload', ['help', 'offload'], 0, ''],
  ['--version', ['--version'], 0, '']
]

describe('exit codes for every command', () => {
  it.concurrent.for(cases.map(([what, args, code, stderrHas]) => ({ what, args, code, stderrHas })))('$what: exits $code', async ({ args: rawArgs, code, stderrHas }, { expect }) => {
    const args = rawArgs.map(a => a === '$SELF' ? h.nodeId : a === '$FRESH' ? join(root, `fresh-${Math.random().toString(36).slice(2)}`) : a)
    const r = await cairn(h.home, args)
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code, stderr: expect.stringContaining(stderrHas) })
    expect(r.stderr).not.toMatch(/\n\s+at |internal error/)
    // a usage error prints nothing on stdout (a refusal may show what it would have done)
    if (code === 2) expect(r.stdout).toBe('')
  })
})
