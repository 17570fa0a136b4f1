// Raft messages (raft/types.ts) to and from the peer API's RaftMessage (proto/shardkv/peer/v1), field
// by field, with nothing lost: numbers stay numbers (the peer loader decodes uint64 as numbers; Raft
// terms and indexes stay below 2^53), entry data stays bytes. Decoding copies entry data out of the
// received gRPC message, since entries live on in the log cache and a view would pin the whole batch.
// A message this version cannot read is a PeerProtocolError, never an assertion: it came off the wire.

import { peer, type Writable } from "../../proto/index.js";
import type { ConfState, Entry, EntryType, Message, MsgSnap, ProposedEntry, SnapshotMeta } from "../../raft/index.js";

/** A peer sent something this node cannot read: a bug or a version skew, not a reason to stop. */
export class PeerProtocolError extends Error {
  override readonly name = "PeerProtocolError";
}

type WireEntryType = Writable<peer.EntryType>;

const ENTRY_TYPE_TO_WIRE: Readonly<Record<EntryType, WireEntryType>> = {
  normal: peer.EntryType.ENTRY_TYPE_NORMAL,
  confChange: peer.EntryType.ENTRY_TYPE_CONF_CHANGE,
};

function entryTypeFromWire(type: peer.EntryType): EntryType {
  switch (type) {
    case peer.EntryType.ENTRY_TYPE_NORMAL:
      return "normal";
    case peer.EntryType.ENTRY_TYPE_CONF_CHANGE:
      return "confChange";
    default:
      // proto3 enums are open: a newer peer may send a type this version does not know.
      throw new PeerProtocolError(`Cannot read an entry of type ${type}: this node knows types 0 and 1; upgrade it to the peer's version`);
  }
}

// ---- To the wire -------------------------------------------------------------------------------

export function encodeMessage(m: Message): Writable<peer.RaftMessage> {
  const envelope = { from: m.from, to: m.to, term: m.term };
  switch (m.type) {
    case "app":
      return { ...envelope, app: { index: m.index, logTerm: m.logTerm, commit: m.commit, entries: m.entries.map(encodeEntry) } };
    case "appResp":
      return { ...envelope, appResp: { index: m.index, reject: m.reject, rejectHint: m.rejectHint, logTerm: m.logTerm } };
    case "vote":
      return { ...envelope, vote: { index: m.index, logTerm: m.logTerm, transfer: m.transfer } };
    case "preVote":
      return { ...envelope, preVote: { index: m.index, logTerm: m.logTerm, transfer: m.transfer } };
    case "voteResp":
      return { ...envelope, voteResp: { reject: m.reject } };
    case "preVoteResp":
      return { ...envelope, preVoteResp: { reject: m.reject } };
    case "heartbeat":
      return { ...envelope, heartbeat: { commit: m.commit, round: m.round, quiesce: m.quiesce === true } };
    case "heartbeatResp":
      return { ...envelope, heartbeatResp: { round: m.round } };
    case "snap":
      return { ...envelope, snap: { snapshot: { meta: encodeMeta(m.snapshot.meta), data: m.snapshot.data } } };
    case "timeoutNow":
      return { ...envelope, timeoutNow: {} };
    case "prop":
      return { ...envelope, prop: { entries: m.entries.map((e) => ({ type: ENTRY_TYPE_TO_WIRE[e.type], data: e.data })) } };
    case "readIndex":
      return { ...envelope, readIndex: { context: m.context, lease: m.lease } };
    case "readIndexResp":
      return { ...envelope, readIndexResp: { context: m.context, index: m.index } };
    case "transferLeader":
      return { ...envelope, transferLeader: { transferee: m.transferee } };
  }
}

function encodeEntry(e: Entry): Writable<peer.Entry> {
  return { term: e.term, index: e.index, type: ENTRY_TYPE_TO_WIRE[e.type], data: e.data };
}

export function encodeMeta(meta: SnapshotMeta): Writable<peer.SnapshotMeta> {
  return { index: meta.index, term: meta.term, confState: { voters: meta.confState.voters, learners: meta.confState.learners } };
}

// ---- From the wire -----------------------------------------------------------------------------

export function decodeMessage(w: peer.RaftMessage): Message {
  const envelope = { from: w.from, to: w.to, term: w.term };
  switch (w.type) {
    case "app":
      return { ...envelope, type: "app", index: w.app.index, logTerm: w.app.logTerm, commit: w.app.commit, entries: w.app.entries.map(decodeEntry) };
    case "appResp":
      return { ...envelope, type: "appResp", index: w.appResp.index, reject: w.appResp.reject, rejectHint: w.appResp.rejectHint, logTerm: w.appResp.logTerm };
    case "vote":
      return { ...envelope, type: "vote", index: w.vote.index, logTerm: w.vote.logTerm, transfer: w.vote.transfer };
    case "preVote":
      return { ...envelope, type: "preVote", index: w.preVote.index, logTerm: w.preVote.logTerm, transfer: w.preVote.transfer };
    case "voteResp":
      return { ...envelope, type: "voteResp", reject: w.voteResp.reject };
    case "preVoteResp":
      return { ...envelope, type: "preVoteResp", reject: w.preVoteResp.reject };
    case "heartbeat":
      return { ...envelope, type: "heartbeat", commit: w.heartbeat.commit, round: w.heartbeat.round, ...(w.heartbeat.quiesce ? { quiesce: true as const } : {}) };
    case "heartbeatResp":
      return { ...envelope, type: "heartbeatResp", round: w.heartbeatResp.round };
    case "snap":
      return decodeSnap(envelope, w.snap);
    case "timeoutNow":
      return { ...envelope, type: "timeoutNow" };
    case "prop":
      return { ...envelope, type: "prop", entries: w.prop.entries.map(decodeProposed) };
    case "readIndex":
      return { ...envelope, type: "readIndex", context: w.readIndex.context, lease: w.readIndex.lease };
    case "readIndexResp":
      return { ...envelope, type: "readIndexResp", context: w.readIndexResp.context, index: w.readIndexResp.index };
    case "transferLeader":
      return { ...envelope, type: "transferLeader", transferee: w.transferLeader.transferee };
    case undefined:
      throw new PeerProtocolError(`Cannot read a Raft message from ${w.from} to ${w.to}: it has no body (a newer message type?)`);
  }
}

function decodeSnap(envelope: Pick<MsgSnap, "from" | "to" | "term">, w: peer.MsgSnap): MsgSnap {
  if (w.snapshot === null) throw new PeerProtocolError(`Cannot read a snapshot message from ${envelope.from}: it has no snapshot`);
  return { ...envelope, type: "snap", snapshot: { meta: decodeMeta(w.snapshot.meta), data: copyBytes(w.snapshot.data) } };
}

export function decodeMeta(meta: peer.SnapshotMeta | null): SnapshotMeta {
  if (meta === null) throw new PeerProtocolError("Cannot read a snapshot without its metadata (index, term, membership)");
  if (meta.confState === null) throw new PeerProtocolError(`Cannot read the snapshot at index ${meta.index}: it has no membership (confState)`);
  return { index: meta.index, term: meta.term, confState: decodeConfState(meta.confState) };
}

function decodeConfState(c: peer.ConfState): ConfState {
  return { voters: [...c.voters], learners: [...c.learners] };
}

function decodeEntry(e: peer.Entry): Entry {
  return { term: e.term, index: e.index, type: entryTypeFromWire(e.type), data: copyBytes(e.data) };
}

function decodeProposed(e: peer.ProposedEntry): ProposedEntry {
  return { type: entryTypeFromWire(e.type), data: copyBytes(e.data) };
}

/** A plain Uint8Array with its own memory (the decoded Buffer is a view into the received message). */
function copyBytes(data: Buffer): Uint8Array {
  return new Uint8Array(data);
}
