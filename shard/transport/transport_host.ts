// What the transport needs of the node it serves: the five methods of shard/store.ts's Store that
// touch the network. A small interface, so that tests can put a fake behind a real gRPC transport and
// so that the transport can be built before the store that needs it at open (see PeerTransport.attach).

import type { Message, MsgSnap, NodeId } from "../../raft/index.js";
import type { GroupId } from "../wal/record.js";

export interface TransportHost {
  /** A message for one of this node's replicas. */
  step(group: GroupId, message: Message): void;
  /** The chunks of a snapshot of `group`, taken when first read; the last one is the store's trailer. */
  snapshotChunks(group: GroupId, chunkBytesMax?: number): AsyncIterable<Uint8Array>;
  /** Stages a streamed snapshot and hands its message to Raft; rejects if the data is bad or incomplete. */
  receiveSnapshot(group: GroupId, message: MsgSnap, chunks: AsyncIterable<Uint8Array>): Promise<void>;
  /** Whether the snapshot sent to `to` arrived and was accepted. */
  reportSnapshot(group: GroupId, to: NodeId, delivered: boolean): void;
  /** Messages of `group` to `to` were lost because the node could not be reached. */
  reportUnreachable(group: GroupId, to: NodeId): void;
}
