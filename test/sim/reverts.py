"""Reverts one fix of the claim model at a time in a COPY of the tree and runs the fleet simulator
(aimed scenarios + 60 seeds) to show the judge catches it. A documented manual check, not part of
npm test: run it from a copy (tar the tree to /tmp/rv, link node_modules), never in the checkout:
    python3 test/sim/reverts.py                 # every revert
    python3 test/sim/reverts.py holds relay-chain custody-holes+holds
Each revert is a literal text replacement; when the code moves, update the pattern (the script
asserts that each pattern is found)."""
import subprocess, sys, shutil, time
R = {
 'custody-holes': ('src/evidence/claims.ts', "    if (!held) {\n      hole(c, r.path, r.originRunId)\n      continue\n    }", "    if (!held) continue"),
 'relay-chain': ('src/offload/gate.ts', "  if (placed === undefined || custody === undefined || custody.verifyMethod !== PEER_SHA256 || !claimCovers(custody, f.path, placed.originRunId)) {\n    return { target: t, cause: 'relay-not-holding', component: custody }\n  }\n  const d = t.components.get(placed.originNodeId)\n  if (d === undefined) return { target: t, cause: 'no-evidence', component: undefined }\n  if (!claimCovers(d, f.path, placed.originRunId))", "  void custody\n  const d = t.components.get(f.originNodeId)\n  if (d === undefined) return { target: t, cause: 'no-evidence', component: undefined }\n  if (!claimCovers(d, f.path, f.originRunId))"),
 're-entry-origin': ('src/store/files.ts', "        } else if (live.status !== 'present') {\n          // back after being missing or offloaded: a new origin (local), or the pusher's (received)\n          supersede.run(runId, live.id)\n          fresh()", "        } else if (live.status !== 'present') {\n          supersede.run(runId, live.id)\n          insertFile.run(volumeId, o.path, contentId, o.mtimeNs, runId, runId, runId, live.origin_node_id, live.origin_run_id, readAt)"),
 'skip-instant': ('src/push/directory-push.ts', "            store.placements.record(destination.name, volRow.id, file.path, { ...placed, originNodeId: file.originNodeId, originRunId: file.originRunId })\n          }\n          return", "          }\n          store.placements.record(destination.name, volRow.id, file.path, { ...placed, verifiedAtNs: store.clock.nowNs(), originNodeId: file.originNodeId, originRunId: file.originRunId })\n          return"),
 'verify-forgets': ('src/push/verify-directory.ts', "    store.placements.forget(destination.name, volRow.id, f.path)\n  }", "  }"),
 'third-party': ('src/evidence/scope.ts', "      out.drops.push({ destination: c.destination, origin: c.originNode, kind: 'third-party' })", "      out.kept.push({ ...c, key: c.destination })"),
 'holds': ('src/offload/hold-phase.ts', "    if (c === null) continue\n", "    if (c === null || c !== null) continue\n"),
 'hold-placed-at': ('src/hold/handler.ts', "          return p !== undefined && p.contentId === row.contentId && p.verifyMethod === SHA256_READBACK", "          return p !== undefined || SHA256_READBACK.length > 0"),
 'peer-placement': ('src/offload/gate.ts', "    if (placed === undefined) return { target: t, cause: 'not-pushed', component: t.custody.get(f.originNodeId) }\n    const c = t.custody.get(placed.originNodeId)\n    if (c === undefined) return { target: t, cause: 'no-evidence', component: undefined }\n    if (c.originRunId < placed.originRunId) return { target: t, cause: 'evidence-behind', component: c }\n    if (!claimCovers(c, f.path, placed.originRunId))", "    const c = t.custody.get(f.originNodeId)\n    if (c === undefined) return { target: t, cause: 'no-evidence', component: undefined }\n    if (c.originRunId < f.originRunId) return { target: t, cause: 'evidence-behind', component: c }\n    if (!claimCovers(c, f.path, f.originRunId))"),
 'early-copies': ('src/push/receive.ts', "early: local.volumeId === volumeId && paths.has(local.path) })", "early: local.volumeId === volumeId && paths.has(local.path) && paths.size < 0 })"),
}
names = sys.argv[1:] or list(R)
for name in names:
    origs = {}
    for part in name.split('+'):
        path, a, b = R[part]
        cur = origs.get(path) or open(path).read()
        origs.setdefault(path, cur)
        text = open(path).read()
        assert a in text, (part, 'pattern missing')
        open(path, 'w').write(text.replace(a, b, 1))
    extra = b.replace  # noqa
    t0 = time.time()
    try:
        p = subprocess.run(['timeout', '400', 'node', '--import', 'tsx', 'test/sim/cli.ts', '--scenarios', '--seeds', sys.argv[0] and '60', '--steps', '40', '--shrink', '12'], capture_output=True, text=True)
        out = p.stdout
    finally:
        for path, orig in origs.items(): open(path, 'w').write(orig)
    fails = [l for l in out.splitlines() if l.startswith('FAIL ') or l.startswith('== ')]
    summary = [l for l in out.splitlines() if l.startswith('summary:')]
    print(f'### {name}: {time.time()-t0:.0f}s rc={p.returncode}')
    for l in fails[:8]: print('   ', l[:200])
    for l in summary: print('   ', l[:260])
    if not fails: print('    (nothing found)', p.stderr[-500:])
    sys.stdout.flush()
