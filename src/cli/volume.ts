import type { Command } from 'commander'
import { UnknownVolumeError } from '../errors.js'
import { nodeDirectoryFs } from '../push/directory-fs.js'
import { initVolume } from '../push/volume-init.js'
import { action } from './command.js'

export function registerVolume (program: Command): void {
  const volume = program.command('volume').description('volume maintenance')

  volume.command('init <name>')
    .description('write the volume root\'s identity marker over the tree as it is (an index writes it by itself only over a non-empty root)')
    .option('--reset', 'replace a recorded marker that is missing or changed (the volume moved to a new or reformatted disk); audited as a reset run')
    .option('--json', 'print {volume, marker_id, path}')
    .action(action(async (ctx, name: string, opts: { reset?: boolean, json?: boolean }) => {
      const declared = ctx.config().volumes.get(name)
      if (declared === undefined) throw new UnknownVolumeError(name, [...ctx.config().volumes.keys()])
      const audit = ctx.audit('volume init', { volume: name, path: declared.path, reset: opts.reset === true })
      const r = await initVolume(ctx.store(), nodeDirectoryFs, declared, { reset: opts.reset === true })
      audit.outcome({ marker_id: r.markerId, written: r.written, already_recorded: r.alreadyRecorded, empty_root: r.emptyRoot, reset_run_id: r.reset?.runId ?? null, previous_marker_id: r.reset?.previousMarkerId ?? null })
      if (opts.json === true) {
        ctx.out.json({
          volume: r.volume, marker_id: r.markerId, path: r.path, written: r.written, already_recorded: r.alreadyRecorded,
          empty_root: r.emptyRoot, files_recorded: r.filesRecorded, reset_run_id: r.reset?.runId ?? null, previous_marker_id: r.reset?.previousMarkerId ?? null
        })
        return 0
      }
      if (r.alreadyRecorded) {
        ctx.out.line(`volume ${r.volume}: ${r.path} already carries its identity marker ${r.markerId}; nothing changed`)
        return 0
      }
      ctx.out.line(`volume ${r.volume}: ${r.written ? 'wrote' : 'recorded'} the identity marker ${r.markerId} at ${r.path}${r.reset === null ? '' : ` (reset run ${r.reset.runId}; it replaces ${r.reset.previousMarkerId})`}`)
      if (r.emptyRoot) {
        ctx.out.line(`  note: ${r.path} was empty: you marked an empty directory as volume ${r.volume}. If it is the mount point of a disk that is not mounted, mount the disk and run \`cairn volume init ${r.volume} --reset\` there.`)
      }
      if (r.emptyRoot && r.filesRecorded > 0) ctx.out.line(`  note: ${r.filesRecorded} file(s) recorded as present there will be marked missing by the next index`)
      if (r.reset !== null) ctx.out.line(`  run \`cairn index ${r.volume}\` next: it compares the files on this disk with what was recorded`)
      return 0
    }))
}
