import type { VolumeConfig } from '../config/types.js'
import { CairnError } from '../errors.js'
import type { PushReport } from '../push/directory-push.js'
import type { NodeRow } from '../store/nodes.js'
import type { CliContext } from './context.js'

class PeerPushUnavailableError extends CairnError {
  override name = 'PeerPushUnavailableError' as const
}

export async function pushToPeerFromCli (_ctx: CliContext, volume: VolumeConfig, peer: NodeRow, _shallow: boolean, _json: boolean): Promise<PushReport> {
  throw new PeerPushUnavailableError(`pushing ${volume.name} to peer ${peer.name ?? peer.nodeId} needs the peer push protocol, which this build does not have yet`)
}
