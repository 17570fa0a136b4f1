// The data the Raft core takes in and hands out: log entries, persistent state, snapshots and the
// messages between replicas. Plain objects only, so that a driver can encode them for a WAL or a
// transport without the core knowing how.

/** A replica's id within one Raft group. 0 means "none". */
export type NodeId = number;
export const NONE: NodeId = 0;

export type EntryType = "normal" | "confChange";

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  /** Opaque to the core for normal entries; an encoded ConfChange for confChange entries. */
  readonly data: Uint8Array;
}

/** What must be durable before a replica answers a vote or an append (Raft §3.8). */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

/** A group's membership. A node is in at most one of the two lists. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  /** The membership as of `index`: the newest configuration entry at or below it. */
  readonly confState: ConfState;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

/** The single-server membership changes of Raft §4.1, plus learners (§4.2.1). */
export type ConfChange =
  | { readonly type: "addVoter"; readonly nodeId: NodeId } // also promotes a learner
  | { readonly type: "addLearner"; readonly nodeId: NodeId }
  | { readonly type: "removeNode"; readonly nodeId: NodeId };

/** A linearizable read that became safe: serve it once the state machine has applied `index`. */
export interface ReadState {
  readonly index: number;
  readonly context: string;
}

export type Role = "follower" | "preCandidate" | "candidate" | "leader";

/** Volatile state a driver may want to observe (and that it never persists). */
export interface SoftState {
  readonly lead: NodeId;
  readonly role: Role;
}

interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
  /** The sender's term; 0 for messages that carry no term (local or forwarded requests). */
  readonly term: number;
}

/** AppendEntries (§3.5): `index`/`logTerm` identify the entry just before `entries`. */
export interface MsgApp extends Envelope {
  readonly type: "app";
  readonly index: number;
  readonly logTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

/**
 * The answer to an append or a snapshot. On success `index` is the last index the follower now
 * matches. On rejection `index` is the rejected `MsgApp.index` and (`rejectHint`, `logTerm`)
 * point at where the leader should probe next (fast backtracking, §5.3 of the Raft paper's end note).
 */
export interface MsgAppResp extends Envelope {
  readonly type: "appResp";
  readonly index: number;
  readonly reject: boolean;
  readonly rejectHint: number;
  readonly logTerm: number;
}

/** RequestVote (§3.4) and its PreVote twin (§9.6). `index`/`logTerm` describe the candidate's last entry. */
export interface MsgVote extends Envelope {
  readonly type: "vote" | "preVote";
  readonly index: number;
  readonly logTerm: number;
  /** Sent after a TimeoutNow: voters skip the "I hear a live leader" check (§3.10). */
  readonly transfer: boolean;
}

export interface MsgVoteResp extends Envelope {
  readonly type: "voteResp" | "preVoteResp";
  readonly reject: boolean;
}

/** Heartbeats carry a round number; a quorum of acks for round r confirms leadership as of r (§6.4). */
export interface MsgHeartbeat extends Envelope {
  readonly type: "heartbeat";
  readonly commit: number;
  readonly round: number;
  /** The leader's last heartbeat before it goes quiet (quiescence.ts): starts no round, asks no answer. */
  readonly quiesce?: true;
}

export interface MsgHeartbeatResp extends Envelope {
  readonly type: "heartbeatResp";
  readonly round: number;
}

export interface MsgSnap extends Envelope {
  readonly type: "snap";
  readonly snapshot: Snapshot;
}

/** Leadership transfer (§3.10): start an election now, without waiting for a timeout. */
export interface MsgTimeoutNow extends Envelope {
  readonly type: "timeoutNow";
}

/** A proposal a follower forwards to its leader. */
export interface MsgProp extends Envelope {
  readonly type: "prop";
  readonly entries: readonly ProposedEntry[];
}

/** A read a follower forwards to its leader; the answer gives the index to wait for. */
export interface MsgReadIndex extends Envelope {
  readonly type: "readIndex";
  readonly context: string;
  readonly lease: boolean;
}

export interface MsgReadIndexResp extends Envelope {
  readonly type: "readIndexResp";
  readonly context: string;
  readonly index: number;
}

/** A follower asks the leader to hand leadership to `transferee`. */
export interface MsgTransferLeader extends Envelope {
  readonly type: "transferLeader";
  readonly transferee: NodeId;
}

export type Message =
  | MsgApp
  | MsgAppResp
  | MsgVote
  | MsgVoteResp
  | MsgHeartbeat
  | MsgHeartbeatResp
  | MsgSnap
  | MsgTimeoutNow
  | MsgProp
  | MsgReadIndex
  | MsgReadIndexResp
  | MsgTransferLeader;

export type MessageType = Message["type"];

/** An entry before the leader gives it a term and an index. */
export interface ProposedEntry {
  readonly type: EntryType;
  readonly data: Uint8Array;
}
