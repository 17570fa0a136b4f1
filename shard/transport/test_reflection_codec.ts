// For tests only: Peer.Raft's former path, kept as the reference the hand-written codec is checked
// against. raft/types.ts messages map to the plain objects that proto-loader's serializers take and
// give (protobufjs reflection: fromObject and toObject over peer.proto), and back. Nothing in the
// node uses it.

import { peer, type Writable } from "../../proto/index.js";
import type { Entry, EntryType, Message, MsgSnap, ProposedEntry, SnapshotMeta } from "../../raft/index.js";
import { peerApi } from "./peer_definition.js";
import { PeerProtocolError } from "./peer_protocol_error.js";
import type { RaftBatch } from "./raft_batch.js";
import { decodeMeta, encodeMeta } from "./snapshot_meta_codec.js";

/** A RaftBatch's bytes, as proto-loader's encoder writes them. */
export function referenceEncode(batch: RaftBatch): Buffer {
  const groups = batch.groups.map(({ group, messages }) => ({ group, messages: messages.map(encodeMessage) }));
  return peerApi().Peer.definition.Raft.requestSerialize({ fromNode: batch.fromNode, toNode: batch.toNode, groups });
}

/** A RaftBatch's bytes as proto-loader's decoder reads them, each message mapped (which may throw). */
export function referenceDecode(bytes: Buffer): RaftBatch {
  const wire = peerApi().Peer.definition.Raft.requestDeserialize(bytes);
  return { fromNode: wire.fromNode, toNode: wire.toNode, groups: wire.groups.map(({ group, messages }) => ({ group, messages: messages.map(decodeMessage) })) };
}

const ENTRY_TYPE_TO_WIRE: Readonly<Record<EntryType, Writable<peer.EntryType>>> = {
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
      throw new PeerProtocolError(`Cannot read an entry of type ${type}: this node knows types 0 and 1; upgrade it to the peer's version`);
  }
}

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
  const meta: SnapshotMeta = decodeMeta(w.snapshot.meta);
  return { ...envelope, type: "snap", snapshot: { meta, data: new Uint8Array(w.snapshot.data) } };
}

function decodeEntry(e: peer.Entry): Entry {
  return { term: e.term, index: e.index, type: entryTypeFromWire(e.type), data: new Uint8Array(e.data) };
}

function decodeProposed(e: peer.ProposedEntry): ProposedEntry {
  return { type: entryTypeFromWire(e.type), data: new Uint8Array(e.data) };
}
