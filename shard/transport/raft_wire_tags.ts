// peer.proto's Raft messages as the tags (field number << 3 | wire type) that the codec writes and
// matches; change them only with peer.proto. A tag the decoder does not match, a known field number
// with another wire type included, is an unknown field and skipped, as protobuf's own decoders do;
// the one exception is a repeated uint64, which protobuf allows packed (LEN) or not (VARINT).

import { wire } from "../../proto/index.js";
import type { MessageType } from "../../raft/index.js";

const { fieldTag: tag, LEN, VARINT } = wire;

export const BatchTag = { fromNode: tag(1, VARINT), toNode: tag(2, VARINT), groups: tag(3, LEN) } as const;
export const GroupTag = { group: tag(1, VARINT), messages: tag(2, LEN) } as const;
export const MessageTag = { from: tag(1, VARINT), to: tag(2, VARINT), term: tag(3, VARINT) } as const;

/** The oneof `type`: one sub-message (LEN) per message type. */
export const BodyTag = {
  app: tag(4, LEN),
  appResp: tag(5, LEN),
  vote: tag(6, LEN),
  preVote: tag(7, LEN),
  voteResp: tag(8, LEN),
  preVoteResp: tag(9, LEN),
  heartbeat: tag(10, LEN),
  heartbeatResp: tag(11, LEN),
  snap: tag(12, LEN),
  timeoutNow: tag(13, LEN),
  prop: tag(14, LEN),
  readIndex: tag(15, LEN),
  readIndexResp: tag(16, LEN),
  transferLeader: tag(17, LEN),
} as const satisfies Readonly<Record<MessageType, number>>;

export const EntryTag = { term: tag(1, VARINT), index: tag(2, VARINT), type: tag(3, VARINT), data: tag(4, LEN) } as const;
export const ProposedEntryTag = { type: tag(1, VARINT), data: tag(2, LEN) } as const;
export const ConfStateTag = {
  voters: tag(1, LEN),
  votersUnpacked: tag(1, VARINT),
  learners: tag(2, LEN),
  learnersUnpacked: tag(2, VARINT),
} as const;
export const SnapshotMetaTag = { index: tag(1, VARINT), term: tag(2, VARINT), confState: tag(3, LEN) } as const;
export const SnapshotTag = { meta: tag(1, LEN), data: tag(2, LEN) } as const;

export const AppTag = { index: tag(1, VARINT), logTerm: tag(2, VARINT), entries: tag(3, LEN), commit: tag(4, VARINT) } as const;
export const AppRespTag = { index: tag(1, VARINT), reject: tag(2, VARINT), rejectHint: tag(3, VARINT), logTerm: tag(4, VARINT) } as const;
export const VoteTag = { index: tag(1, VARINT), logTerm: tag(2, VARINT), transfer: tag(3, VARINT) } as const;
export const VoteRespTag = { reject: tag(1, VARINT) } as const;
export const HeartbeatTag = { commit: tag(1, VARINT), round: tag(2, VARINT), quiesce: tag(3, VARINT) } as const;
export const HeartbeatRespTag = { round: tag(1, VARINT) } as const;
export const SnapTag = { snapshot: tag(1, LEN) } as const;
export const PropTag = { entries: tag(1, LEN) } as const;
export const ReadIndexTag = { context: tag(1, LEN), lease: tag(2, VARINT) } as const;
export const ReadIndexRespTag = { context: tag(1, LEN), index: tag(2, VARINT) } as const;
export const TransferLeaderTag = { transferee: tag(1, VARINT) } as const;
