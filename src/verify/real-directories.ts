/** Whether every directory from `root` to the file `rel` is a real directory (no symlink leads elsewhere). */
import { lstat } from 'node:fs/promises'
import { join } from 'node:path'

export async function realDirectories (root: string, rel: string): Promise<boolean> {
  let current = root
  for (const segment of rel.split('/').slice(0, -1)) {
    current = join(current, segment)
    try {
      if (!(await lstat(current)).isDirectory()) return false
    } catch {
      return false
    }
  }
  return true
}
