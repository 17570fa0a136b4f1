// The peer API's messages (proto/shardkv/peer/v1/peer.proto) as proto-loader decodes them with the
// peer options (proto/load.ts): field names as in the file, 64-bit integers as JS numbers (Raft
// terms, indexes and replica ids stay below 2^53), bytes as Buffer, enums as numbers, every field
// present, a missing sub-message null. RaftMessage's oneof is named "type", so the decoded `type`
// is raft/types.ts's discriminant. Converting to and from raft/types.ts is the transport's job.

import { bidiStream, clientStream, serviceSpec, unary } from "./service_types.js";
import type { EnumOf } from "./wire_types.js";

export const EntryType = { ENTRY_TYPE_NORMAL: 0, ENTRY_TYPE_CONF_CHANGE: 1 } as const;
export type EntryType = EnumOf<typeof EntryType>;

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Buffer;
}

export interface ProposedEntry {
  readonly type: EntryType;
  readonly data: Buffer;
}

export interface ConfState {
  readonly voters: readonly number[];
  readonly learners: readonly number[];
}

export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState | null;
}

export interface Snapshot {
  readonly meta: SnapshotMeta | null;
  readonly data: Buffer;
}

export interface MsgApp {
  readonly index: number;
  readonly logTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

export interface MsgAppResp {
  readonly index: number;
  readonly reject: boolean;
  readonly rejectHint: number;
  readonly logTerm: number;
}

export interface MsgVote {
  readonly index: number;
  readonly logTerm: number;
  readonly transfer: boolean;
}

export interface MsgVoteResp {
  readonly reject: boolean;
}

export interface MsgHeartbeat {
  readonly commit: number;
  readonly round: number;
  readonly quiesce: boolean;
}

export interface MsgHeartbeatResp {
  readonly round: number;
}

export interface MsgSnap {
  readonly snapshot: Snapshot | null;
}

export type MsgTimeoutNow = Readonly<Record<never, never>>;

export interface MsgProp {
  readonly entries: readonly ProposedEntry[];
}

export interface MsgReadIndex {
  readonly context: string;
  readonly lease: boolean;
}

export interface MsgReadIndexResp {
  readonly context: string;
  readonly index: number;
}

export interface MsgTransferLeader {
  readonly transferee: number;
}

export interface RaftEnvelope {
  readonly from: number;
  readonly to: number;
  readonly term: number;
}

/** One member per raft/types.ts message type; a message with no body (a bug) has no `type`. */
export type RaftMessageBody =
  | { readonly type: "app"; readonly app: MsgApp }
  | { readonly type: "appResp"; readonly appResp: MsgAppResp }
  | { readonly type: "vote"; readonly vote: MsgVote }
  | { readonly type: "preVote"; readonly preVote: MsgVote }
  | { readonly type: "voteResp"; readonly voteResp: MsgVoteResp }
  | { readonly type: "preVoteResp"; readonly preVoteResp: MsgVoteResp }
  | { readonly type: "heartbeat"; readonly heartbeat: MsgHeartbeat }
  | { readonly type: "heartbeatResp"; readonly heartbeatResp: MsgHeartbeatResp }
  | { readonly type: "snap"; readonly snap: MsgSnap }
  | { readonly type: "timeoutNow"; readonly timeoutNow: MsgTimeoutNow }
  | { readonly type: "prop"; readonly prop: MsgProp }
  | { readonly type: "readIndex"; readonly readIndex: MsgReadIndex }
  | { readonly type: "readIndexResp"; readonly readIndexResp: MsgReadIndexResp }
  | { readonly type: "transferLeader"; readonly transferLeader: MsgTransferLeader }
  | { readonly type?: undefined };

export type RaftMessage = RaftEnvelope & RaftMessageBody;

export interface GroupMessages {
  readonly group: number;
  readonly messages: readonly RaftMessage[];
}

export interface RaftBatch {
  readonly fromNode: number;
  readonly toNode: number;
  readonly groups: readonly GroupMessages[];
}

export interface SnapshotHeader {
  readonly fromNode: number;
  readonly toNode: number;
  readonly group: number;
  readonly from: number;
  readonly to: number;
  readonly term: number;
  readonly meta: SnapshotMeta | null;
  readonly dataBytes: number;
  readonly dataCrc32c: number;
}

export type SnapshotChunk =
  | { readonly chunk: "header"; readonly header: SnapshotHeader }
  | { readonly chunk: "data"; readonly data: Buffer }
  | { readonly chunk?: undefined };

export interface SnapshotAck {
  readonly group: number;
  readonly index: number;
  readonly receivedBytes: number;
}

export const peerSpec = serviceSpec("shardkv.peer.v1.Peer", {
  Raft: bidiStream<RaftBatch, RaftBatch>(),
  Snapshot: clientStream<SnapshotChunk, SnapshotAck>(),
});

export type PeerSpec = typeof peerSpec;

/** forward.proto: one shard's part of a client request, handed to a node that can serve it. */
export interface ForwardRequest {
  readonly shard: number;
  readonly mapEpoch: number;
  readonly op: string;
  readonly payload: Buffer;
}

export interface ForwardResponse {
  readonly payload: Buffer;
  readonly leader: number;
  readonly term: number;
  readonly appliedIndex: number;
  readonly committedIndex: number;
}

export const forwardSpec = serviceSpec("shardkv.peer.v1.Forward", {
  Call: unary<ForwardRequest, ForwardResponse>(),
});

export type ForwardSpec = typeof forwardSpec;
