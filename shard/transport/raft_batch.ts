// A RaftBatch (proto/shardkv/peer/v1/peer.proto) as the transport writes and reads it: raft/types.ts
// messages grouped by Raft group, with no intermediate wire objects (raft_batch_encoder.ts and
// raft_batch_decoder.ts go straight between these and bytes). A received batch keeps apart what it
// could not read, message by message, so that one bad message costs only itself.

import type { Message, NodeId } from "../../raft/index.js";
import type { GroupId } from "../wal/record.js";
import type { PeerProtocolError } from "./peer_protocol_error.js";

/** One group's messages, in the order its Ready produced them. */
export interface BatchGroup {
  readonly group: GroupId;
  readonly messages: readonly Message[];
}

/** What one turn sends to one peer. Node ids, not replica ids. */
export interface RaftBatch {
  readonly fromNode: NodeId;
  readonly toNode: NodeId;
  readonly groups: readonly BatchGroup[];
}

export interface ReceivedGroup extends BatchGroup {
  /** One error per message of the group that could not be read; the others are in `messages`. */
  readonly unreadable: readonly PeerProtocolError[];
}

export interface ReceivedRaftBatch extends RaftBatch {
  readonly groups: readonly ReceivedGroup[];
}

/** A batch as it came off the wire: read, or unreadable as a whole (its framing is broken). */
export type DecodedRaftBatch =
  | { readonly ok: true; readonly batch: ReceivedRaftBatch }
  | { readonly ok: false; readonly error: PeerProtocolError };
