/**
 * The one naming rule for everything an operator names: volumes, directory destinations,
 * peers and the node itself. Names end up in filesystem paths (`<root>/<volume>/...`) and on
 * the wire, so they are short, lowercase and free of path syntax. Node ids (libp2p peer ids)
 * always contain upper-case letters, so a name can never be mistaken for a node id.
 */
export const NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/
export const MAX_NAME_CHARS = 64
export const NAME_RULE = 'a name of 1-64 characters: lowercase letters, digits, ".", "_" or "-", starting with a letter or digit'

export function isValidName (value: string): boolean {
  return NAME_RE.test(value)
}
