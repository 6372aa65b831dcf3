/**
 * Aimed scenarios: fixed step lists that walk the short bug paths of ../shared/audit/ on
 * purpose (and the fleet stories), judged by the same oracle as the random seeds.
 */
import { DEFAULT_REQUIRES, OFFSITE_VIA_NAS, type FleetShape } from './fleet.js'
import type { Replay } from './run.js'
import type { Step } from './steps.js'

const HEX_A = Buffer.from('precious original bytes A').toString('hex')
const HEX_B = Buffer.from('other photo bytes B').toString('hex')
const HEX_C = Buffer.from('third photo C').toString('hex')

const shape = (requires: Partial<FleetShape['requires']>, maxAge: FleetShape['maxAge'] = {}): FleetShape => ({ requires: { ...DEFAULT_REQUIRES, ...requires }, maxAge })

const scenario = (name: string, s: FleetShape, steps: Step[], liveness = true): Replay => ({ seed: 0, name, shape: s, liveness, steps })

export const SCENARIOS: Replay[] = [
  // issue 15: laptop offloads, nas's copy of one file rots, laptop restores from nas (what
  // verifies comes back) and then through nas from its offsite disk (the rest), and offloads again
  scenario('restore-from-peer', shape({}), [
    { op: 'add', node: 'laptop', path: '2019/a.jpg', hex: HEX_A },
    { op: 'add', node: 'laptop', path: '2019/c.jpg', hex: HEX_C },
    { op: 'sync', node: 'laptop' },
    { op: 'sync', node: 'nas' },
    { op: 'sync', node: 'laptop' },
    { op: 'offload', node: 'laptop', selector: '2019' },
    { op: 'corrupt', at: 'nas', path: '2019/a.jpg' },
    { op: 'restorePeer', node: 'laptop', from: 'nas', selector: '2019' },
    { op: 'restorePeer', node: 'laptop', from: 'nas', dir: 'offsite', selector: '2019' },
    { op: 'sync', node: 'laptop' },
    { op: 'offload', node: 'laptop', selector: '2019' }
  ]),
  // issue 15: nas's copy of a file rots behind unchanged metadata; laptop's peer verify (a
  // sample first: it escalates to a full re-read) must bring nas's custody of it down before
  // laptop offloads, and the next push must heal it so the gate opens again
  scenario('peer-verify-heals', shape({}), [
    { op: 'add', node: 'laptop', path: '2019/a.jpg', hex: HEX_A },
    { op: 'add', node: 'laptop', path: '2019/c.jpg', hex: HEX_C },
    { op: 'sync', node: 'laptop' },
    { op: 'sync', node: 'nas' },
    { op: 'sync', node: 'laptop' },
    { op: 'corrupt', at: 'nas', path: '2019/a.jpg' },
    { op: 'verifyPeer', node: 'laptop', peer: 'nas', sample: 2 },
    { op: 'offload', node: 'laptop', selector: '2019' },
    { op: 'sync', node: 'laptop' },
    { op: 'sync', node: 'nas' },
    { op: 'sync', node: 'laptop' },
    { op: 'verifyPeer', node: 'laptop', peer: 'nas' },
    { op: 'offload', node: 'laptop', selector: '2019' }
  ]),
  // under an age limit, a peer verify is what makes nas's evidence young again: a sample renews
  // only what it re-read (the claim's verified_at is its oldest read), so rot it did not draw
  // stays behind stale evidence; only a full re-read renews the rest — and finds the rot (no
  // liveness judgement: a clean cycle takes longer than this age limit)
  scenario('peer-verify-age', shape({}, { laptop: '2s' }), [
    { op: 'add', node: 'laptop', path: '2019/a.jpg', hex: HEX_A },
    { op: 'add', node: 'laptop', path: '2019/c.jpg', hex: HEX_C },
    { op: 'add', node: 'laptop', path: '2019/d.jpg', hex: HEX_B },
    { op: 'sync', node: 'laptop' },
    { op: 'sync', node: 'nas' },
    { op: 'sync', node: 'laptop' },
    { op: 'corrupt', at: 'nas', path: '2019/a.jpg' },
    { op: 'sleep', ms: 2500 },
    { op: 'verifyPeer', node: 'laptop', peer: 'nas', sample: 1 },
    { op: 'verify', dir: 'offsite' },
    { op: 'pull', node: 'laptop', from: 'nas' },
    { op: 'offload', node: 'laptop', selector: '2019' },
    { op: 'verifyPeer', node: 'laptop', peer: 'nas' },
    { op: 'verify', dir: 'offsite' },
    { op: 'pull', node: 'laptop', from: 'nas' },
    { op: 'offload', node: 'laptop', selector: '2019' }
  ], false),
  // the same rot found by nas's own full re-hash, then a file gone at nas found by a full verify
  scenario('peer-verify-missing', shape({}), [
    { op: 'add', node: 'laptop', path: '2019/a.jpg', hex: HEX_A },
    { op: 'add', node: 'laptop', path: '2020/a/b.jpg', hex: HEX_B },
    { op: 'sync', node: 'laptop' },
    { op: 'sync', node: 'nas' },
    { op: 'sync', node: 'laptop' },
    { op: 'corrupt', at: 'nas', path: '2019/a.jpg' },
    { op: 'index', node: 'nas' },
    { op: 'destroy', at: 'nas', path: '2020/a/b.jpg' },
    { op: 'verifyPeer', node: 'laptop', peer: 'nas' },
    { op: 'pull', node: 'laptop', from: 'nas' },
    { op: 'offload', node: 'laptop', selector: '.' },
    { op: 'sync', node: 'laptop' },
    { op: 'sync', node: 'nas' },
    { op: 'sync', node: 'laptop' },
    { op: 'offload', node: 'laptop', selector: '.' }
  ]),
  // evidence-path/relayed-reacquired: a file away during the only push, back with its old origin run
  scenario('relayed-reacquired', shape({ laptop: [OFFSITE_VIA_NAS] }), [
    { op: 'add', node: 'laptop', path: '2019/a.jpg', hex: HEX_A },
    { op: 'add', node: 'laptop', path: '2019/c.jpg', hex: HEX_C },
    { op: 'index', node: 'laptop' },
    { op: 'unmount', at: 'laptop', path: '2019/a.jpg' },
    { op: 'index', node: 'laptop' },
    { op: 'push', node: 'laptop', to: 'nas' },
    { op: 'push', node: 'nas', to: 'offsite' },
    { op: 'pull', node: 'laptop', from: 'nas' },
    { op: 'remount', at: 'laptop', path: '2019/a.jpg' },
    { op: 'index', node: 'laptop' },
    { op: 'offload', node: 'laptop', selector: '2019/a.jpg' }
  ]),
  // the same with the required shape (nas and offsite)
  scenario('relayed-reacquired-both', shape({}), [
    { op: 'add', node: 'laptop', path: '2019/a.jpg', hex: HEX_A },
    { op: 'add', node: 'laptop', path: '2019/c.jpg', hex: HEX_C },
    { op: 'index', node: 'laptop' },
    { op: 'unmount', at: 'laptop', path: '2019/a.jpg' },
    { op: 'index', node: 'laptop' },
    { op: 'push', node: 'laptop', to: 'nas' },
    { op: 'push', node: 'nas', to: 'offsite' },
    { op: 'pull', node: 'laptop', from: 'nas' },
    { op: 'remount', at: 'laptop', path: '2019/a.jpg' },
    { op: 'index', node: 'laptop' },
    { op: 'push', node: 'laptop', to: 'nas' },
    { op: 'offload', node: 'laptop', selector: '2019/a.jpg' }
  ]),
  // evidence-path/gate-verify-mask: a failed verify, then a refused one (the disk lost its marker)
  scenario('gate-verify-mask', shape({ laptop: ['usb'] }), [
    { op: 'add', node: 'laptop', path: 'a.jpg', hex: HEX_A },
    { op: 'index', node: 'laptop' },
    { op: 'push', node: 'laptop', to: 'usb' },
    { op: 'corrupt', at: 'usb', path: 'a.jpg' },
    { op: 'verify', dir: 'usb' },
    { op: 'unmark', dir: 'usb' },
    { op: 'verify', dir: 'usb' },
    { op: 'offload', node: 'laptop', selector: '.' }
  ]),
  // evidence-path/self-claim-after-loss: nas lost a received file, indexed, and still claims custody
  scenario('self-claim-after-loss', shape({ laptop: ['nas'] }), [
    { op: 'add', node: 'laptop', path: '2019/a.jpg', hex: HEX_A },
    { op: 'index', node: 'laptop' },
    { op: 'push', node: 'laptop', to: 'nas' },
    { op: 'destroy', at: 'nas', path: '2019/a.jpg' },
    { op: 'index', node: 'nas' },
    { op: 'pull', node: 'laptop', from: 'nas' },
    { op: 'offload', node: 'laptop', selector: '.' }
  ]),
  // data-path/poc-a-skip-refreshes-age: a push that skips files must not make their evidence younger
  scenario('poc-a-skip-refreshes-age', shape({ laptop: ['usb'] }, { laptop: '1s' }), [
    { op: 'add', node: 'laptop', path: 'a.jpg', hex: HEX_A },
    { op: 'index', node: 'laptop' },
    { op: 'push', node: 'laptop', to: 'usb' },
    { op: 'corrupt', at: 'usb', path: 'a.jpg' },
    { op: 'sleep', ms: 1300 },
    { op: 'push', node: 'laptop', to: 'usb' },
    { op: 'offload', node: 'laptop', selector: '.' }
  ], false),
  // the mutual backup: nas offloads p.jpg because laptop holds it, then laptop offloads 2019/
  scenario('mutual-backup-double-delete', shape({ laptop: ['nas'], nas: ['laptop'] }), [
    { op: 'add', node: 'laptop', path: '2019/p.jpg', hex: HEX_A },
    { op: 'add', node: 'laptop', path: '2019/q.jpg', hex: HEX_B },
    { op: 'index', node: 'laptop' },
    { op: 'push', node: 'laptop', to: 'nas' },
    { op: 'index', node: 'nas' },
    { op: 'push', node: 'nas', to: 'laptop' },
    { op: 'pull', node: 'laptop', from: 'nas' },
    { op: 'pull', node: 'nas', from: 'laptop' },
    { op: 'offload', node: 'nas', selector: '2019/p.jpg' },
    { op: 'offload', node: 'laptop', selector: '2019' }
  ]),
  // the same two offloads at once
  scenario('mutual-backup-concurrent-offloads', shape({ laptop: ['nas'], nas: ['laptop'] }), [
    { op: 'add', node: 'laptop', path: '2019/p.jpg', hex: HEX_A },
    { op: 'index', node: 'laptop' },
    { op: 'push', node: 'laptop', to: 'nas' },
    { op: 'index', node: 'nas' },
    { op: 'push', node: 'nas', to: 'laptop' },
    { op: 'pull', node: 'laptop', from: 'nas' },
    { op: 'pull', node: 'nas', from: 'laptop' },
    { op: 'offload2', laptop: '2019', nas: '2019' }
  ]),
  // the compromised desk: a validly signed claim that offsite holds laptop's photos
  scenario('desk-speaks-for-offsite', shape({ laptop: [OFFSITE_VIA_NAS] }), [
    { op: 'add', node: 'laptop', path: '2019/a.jpg', hex: HEX_A },
    { op: 'index', node: 'laptop' },
    { op: 'forge', signer: 'desk', victim: 'laptop', claims: [OFFSITE_VIA_NAS] },
    { op: 'offload', node: 'laptop', selector: '.' }
  ]),
  // … with offsite's real marker key, which laptop learned from nas (owner nas) before the forgery
  scenario('desk-speaks-for-known-offsite', shape({}), [
    { op: 'add', node: 'nas', path: 'misc/n.jpg', hex: HEX_B },
    { op: 'index', node: 'nas' },
    { op: 'push', node: 'nas', to: 'offsite' },
    { op: 'pull', node: 'laptop', from: 'nas' },
    { op: 'add', node: 'laptop', path: '2019/a.jpg', hex: HEX_A },
    { op: 'index', node: 'laptop' },
    { op: 'forge', signer: 'desk', victim: 'laptop', claims: ['nas', OFFSITE_VIA_NAS] },
    { op: 'offload', node: 'laptop', selector: '.' }
  ]),
  // … and that nas holds them, after nas honestly reported the loss (laptop pushed, nas lost it)
  scenario('desk-speaks-for-nas', shape({ laptop: ['nas'] }), [
    { op: 'add', node: 'laptop', path: '2019/a.jpg', hex: HEX_A },
    { op: 'index', node: 'laptop' },
    { op: 'push', node: 'laptop', to: 'nas' },
    { op: 'destroy', at: 'nas', path: '2019/a.jpg' },
    { op: 'index', node: 'nas' },
    { op: 'pull', node: 'laptop', from: 'nas' },
    { op: 'forge', signer: 'desk', victim: 'laptop', claims: ['nas'] },
    { op: 'offload', node: 'laptop', selector: '.' }
  ]),
  // … and revoking nas does not drop what desk said about it
  scenario('desk-speaks-for-nas-after-revoke', shape({ laptop: ['nas'] }), [
    { op: 'add', node: 'laptop', path: '2019/a.jpg', hex: HEX_A },
    { op: 'index', node: 'laptop' },
    { op: 'push', node: 'laptop', to: 'nas' },
    { op: 'forge', signer: 'desk', victim: 'laptop', claims: ['nas'] },
    { op: 'revoke', node: 'laptop', peer: 'nas' },
    { op: 'destroy', at: 'nas', path: '2019/a.jpg' },
    { op: 'offload', node: 'laptop', selector: '.' }
  ]),
  // found by seed 17 (dry run): laptop holds desk's older version of a path while nas holds the
  // newer one from the same origin; nas's custody of desk's runs covers the older run
  scenario('older-version-at-third-node', shape({ laptop: ['nas'] }), [
    { op: 'add', node: 'desk', path: '2020/a/q0.jpg', hex: '287989f8fb10518b6b76bc57f40ada5b91dfb8' },
    { op: 'sync', node: 'desk' },
    { op: 'sync', node: 'nas' },
    { op: 'sync', node: 'laptop' },
    { op: 'edit', node: 'desk', path: '2020/a/q0.jpg', hex: 'b374615f82c249ae' },
    { op: 'sync', node: 'desk' },
    { op: 'pull', node: 'laptop', from: 'nas' },
    { op: 'offload', node: 'laptop', selector: '2020/a/q0.jpg' }
  ]),
  // a push killed after its snapshot and reaped must not wedge the volume (liveness judges it)
  scenario('killed-push-reaped', shape({}), [
    { op: 'add', node: 'laptop', path: '2019/a.jpg', hex: HEX_A },
    { op: 'index', node: 'laptop' },
    { op: 'kill', node: 'laptop', to: 'nas', when: 'transfer' },
    { op: 'kill', node: 'laptop', to: 'usb', when: 'snapshot' },
    { op: 'offload', node: 'laptop', selector: '.' }
  ]),
  // ---- destination identity (issue 13) --------------------------------------------------------
  // poc-b: desk points a destination at laptop's usb directory; only the marker's owner writes
  scenario('shared-directory', shape({ laptop: ['usb'] }), [
    { op: 'add', node: 'laptop', path: '2019/p.jpg', hex: HEX_A },
    { op: 'add', node: 'desk', path: '2019/p.jpg', hex: HEX_B },
    { op: 'index', node: 'laptop' },
    { op: 'index', node: 'desk' },
    { op: 'push', node: 'laptop', to: 'usb' },
    { op: 'push', node: 'desk', to: 'share' },
    { op: 'offload', node: 'laptop', selector: '.' }
  ]),
  // … and after usb lost its marker desk pushes first: desk owns it now, laptop must not trust
  // its old placements there (the gate rightly stays shut: no liveness)
  scenario('shared-directory-taken-over', shape({ laptop: ['usb'] }), [
    { op: 'add', node: 'laptop', path: '2019/p.jpg', hex: HEX_A },
    { op: 'add', node: 'desk', path: '2019/p.jpg', hex: HEX_B },
    { op: 'index', node: 'laptop' },
    { op: 'index', node: 'desk' },
    { op: 'push', node: 'laptop', to: 'usb' },
    { op: 'unmark', dir: 'usb' },
    { op: 'push', node: 'desk', to: 'share' },
    { op: 'offload', node: 'laptop', selector: '.' },
    { op: 'reset', dir: 'usb' },
    { op: 'push', node: 'laptop', to: 'usb' },
    { op: 'offload', node: 'laptop', selector: '.' }
  ], false),
  // naming-collisions 2/3: desk's own directory labelled usb never counts for laptop's usb
  scenario('same-label-usb', shape({ laptop: ['usb'], desk: ['big', 'usb'] }), [
    { op: 'add', node: 'laptop', path: '2019/p.jpg', hex: HEX_A },
    { op: 'index', node: 'laptop' },
    { op: 'push', node: 'laptop', to: 'nas' },
    { op: 'sync', node: 'nas' },
    { op: 'sync', node: 'desk' },
    { op: 'pull', node: 'laptop', from: 'desk' },
    { op: 'forge', signer: 'desk', victim: 'laptop', claims: ['usb'] },
    { op: 'offload', node: 'laptop', selector: '.' }
  ]),
  // naming-collisions 1: desk's directory is labelled nas; laptop revokes and re-enrolls nas
  scenario('label-names-a-revoked-peer', shape({ laptop: ['nas'], desk: ['big', 'nas'] }), [
    { op: 'add', node: 'laptop', path: '2019/p.jpg', hex: HEX_A },
    { op: 'add', node: 'desk', path: '2019/p.jpg', hex: HEX_A },
    { op: 'index', node: 'laptop' },
    { op: 'push', node: 'laptop', to: 'nas' },
    { op: 'sync', node: 'desk' },
    { op: 'revoke', node: 'laptop', peer: 'nas' },
    { op: 'pull', node: 'laptop', from: 'desk' },
    { op: 'destroy', at: 'nas', path: '2019/p.jpg' },
    { op: 'offload', node: 'laptop', selector: '.' },
    { op: 'reenroll', node: 'laptop', peer: 'nas' },
    { op: 'sync', node: 'laptop' },
    { op: 'pull', node: 'laptop', from: 'desk' },
    { op: 'offload', node: 'laptop', selector: '.' }
  ]),
  // nas's copy quietly rots; nas's index sees it; laptop must not offload on the old receipt
  scenario('peer-copy-rots-then-indexed', shape({ laptop: ['nas'] }), [
    { op: 'add', node: 'laptop', path: '2019/a.jpg', hex: HEX_A },
    { op: 'index', node: 'laptop' },
    { op: 'push', node: 'laptop', to: 'nas' },
    { op: 'corrupt', at: 'nas', path: '2019/a.jpg' },
    { op: 'index', node: 'nas' },
    { op: 'offload', node: 'laptop', selector: '.' }
  ]),
  // issue 14: nas's volume disk is unmounted (the bare mount point stays); a user saves a file
  // into the mount point; nas must refuse the push, its index and holds, so laptop deletes nothing
  scenario('receiver-disk-unmounted', shape({ laptop: ['nas'] }), [
    { op: 'add', node: 'laptop', path: '2019/a.jpg', hex: HEX_A },
    { op: 'add', node: 'laptop', path: '2019/b.jpg', hex: HEX_B },
    { op: 'index', node: 'laptop' },
    { op: 'push', node: 'laptop', to: 'nas' },
    { op: 'unmount', at: 'nas', path: '' },
    { op: 'add', node: 'nas', path: 'stray.jpg', hex: HEX_C },
    { op: 'index', node: 'nas' },
    { op: 'add', node: 'laptop', path: '2019/c.jpg', hex: HEX_C },
    { op: 'index', node: 'laptop' },
    { op: 'push', node: 'laptop', to: 'nas' },
    { op: 'offload', node: 'laptop', selector: '.' },
    { op: 'remount', at: 'nas', path: '' },
    { op: 'push', node: 'laptop', to: 'nas' },
    { op: 'offload', node: 'laptop', selector: '2019/c.jpg' }
  ])
]
