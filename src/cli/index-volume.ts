import { Option, type Command } from 'commander'
import { volumeForRun } from '../naming.js'
import { indexVolume } from '../index/index-volume.js'
import { action } from './command.js'
import { UsageError } from '../errors.js'
import { formatBytes } from './output.js'
import { progressBar } from './progress.js'

export function registerIndex (program: Command): void {
  program.command('index <volume>')
    .description('walk the volume and hash new and changed files (size, mtime, ctime or inode differ); new contents get this node and run as origin')
    .option('--rehash', 'hash every file (finds bytes that changed behind unchanged metadata: bit rot)')
    .addOption(new Option('--shallow', 'deprecated: the quick index is the default').hideHelp())
    .option('--json', 'print {run_id, volume, status, files_seen, files_added, files_changed, files_missing, bytes_hashed}')
    .action(action(async (ctx, volume: string, opts: { rehash?: boolean, shallow?: boolean, json?: boolean }) => {
      if (opts.rehash === true && opts.shallow === true) throw new UsageError('--rehash and --shallow contradict each other: --rehash hashes every file, the quick index (the default) only new and changed ones')
      const store = ctx.store()
      const { config: vol } = volumeForRun(store, ctx.config(), volume)
      const bar = opts.json === true ? undefined : progressBar(ctx, `index ${volume}`, 'files')
      let r
      try {
        r = await indexVolume({ store, volume: vol, quick: opts.rehash !== true, signal: ctx.signal, logger: ctx.logger.forComponent('index'), onProgress: (p) => { bar?.update(p.filesHashed, p.filesSeen) } })
      } finally {
        bar?.stop()
      }
      if (opts.json === true) {
        ctx.out.json({
          run_id: r.runId, volume: r.volume, status: r.status, files_seen: r.filesSeen, files_added: r.filesAdded, files_changed: r.filesChanged,
          files_missing: r.filesMissing, bytes_hashed: r.bytesHashed, files_returned: r.filesReturned, symlinks_skipped: r.symlinksSkipped,
          special_skipped: r.specialSkipped, unreadable: r.unreadable, unstable: r.unstable, error: r.error,
          marker_id: r.markerId, marker_written: r.markerWritten, rehash: opts.rehash === true, files_hashed: r.filesHashed,
          damaged: r.damaged.map(d => ({ path: d.path, moved_to: d.movedTo }))
        })
      } else {
        ctx.out.line(`index ${volume}: ${r.status} (run ${r.runId}) — ${r.filesSeen} files seen, ${r.filesAdded} added, ${r.filesChanged} changed, ${r.filesReturned} back, ${r.filesMissing} missing, ${r.filesHashed} hashed (${formatBytes(r.bytesHashed)})${opts.rehash === true ? '' : ', unchanged files trusted (--rehash reads every byte)'}`)
        if (r.markerWritten) ctx.out.line(`  wrote the volume's identity marker ${r.markerId ?? ''} (.cairn-volume at ${vol.path})`)
        else if (r.markerId === null) ctx.out.line(`  note: ${vol.path} is empty, so it has no identity marker yet (run \`cairn volume init ${volume}\` if this empty directory really is the volume)`)
        if (r.symlinksSkipped > 0) ctx.out.line(`  ${r.symlinksSkipped} symlink(s) skipped (cairn never follows symlinks)`)
        for (const u of r.unreadable.slice(0, 20)) ctx.out.line(`  unreadable: ${u.path === '' ? '(volume root)' : u.path} (${u.code})`)
        for (const p of r.unstable.slice(0, 20)) ctx.out.line(`  changed while hashing: ${p} (index again when it is quiet)`)
        for (const d of r.damaged.slice(0, 20)) ctx.out.line(`  damaged: ${d.path} (its bytes changed, its size and times did not) — ${d.movedTo === null ? 'recorded as changed' : `moved to ${d.movedTo}; the next push from its origin re-sends it`}`)
        if (r.unreadable.length + r.unstable.length > 40) ctx.out.line(`  … see \`cairn runs --volume ${volume}\` for the full list`)
      }
      // why it exits 1, on stderr (with --json too)
      if (r.status !== 'success') ctx.out.err(`cairn: index ${volume}: ${r.status} (run ${r.runId}): ${r.error ?? (r.status === 'aborted' ? 'interrupted' : `${r.unreadable.length} unreadable, ${r.unstable.length} changed while hashing`)}`)
      return r.status === 'success' ? 0 : 1
    }))
}
