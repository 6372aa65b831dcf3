/**
 * The store keys peer destinations by node id; operators see local peer names. These map
 * between the two for display (unknown node ids are shown as they are).
 */
import type { CliContext } from './context.js'

export function displayDestination (ctx: CliContext, destination: string): string {
  const node = ctx.store().nodes.byNodeId(destination)
  if (node === undefined) return destination
  if (node.isSelf) return node.name ?? destination
  return node.name ?? destination
}
