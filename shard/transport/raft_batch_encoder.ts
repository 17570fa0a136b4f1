// Writes a RaftBatch of raft/types.ts messages straight to peer.proto bytes with protobufjs's Writer:
// no wire objects, no reflection (that path, fromObject plus our own mapping, was the largest item of
// a put benchmark's CPU profile). proto3's rules: a scalar at its default (0, false, empty) is left
// out, repeated uint64 is packed, and a sub-message is written whenever it is present, even empty:
// the oneof member tells the type (timeoutNow: {}), and a snapshot's meta and confState are required.

import protobuf from "protobufjs/minimal.js";
import { peer } from "../../proto/index.js";
import type { Entry, EntryType, Message, Snapshot } from "../../raft/index.js";
import type { RaftBatch } from "./raft_batch.js";
import * as tags from "./raft_wire_tags.js";

// Bound once, here: under tsx and vitest each use of an imported name is a getter call, which the
// writers below would pay for every field of every message.
const { AppRespTag, AppTag, BatchTag, BodyTag, ConfStateTag, EntryTag, GroupTag, HeartbeatRespTag, HeartbeatTag, MessageTag } = tags;
const { PropTag, ProposedEntryTag, ReadIndexRespTag, ReadIndexTag, SnapshotMetaTag, SnapshotTag, SnapTag, TransferLeaderTag, VoteRespTag, VoteTag } = tags;

type Writer = protobuf.Writer;

const ENTRY_TYPE_TO_WIRE: Readonly<Record<EntryType, number>> = {
  normal: peer.EntryType.ENTRY_TYPE_NORMAL,
  confChange: peer.EntryType.ENTRY_TYPE_CONF_CHANGE,
};

export function encodeRaftBatch(batch: RaftBatch): Buffer {
  const writer = new protobuf.BufferWriter();
  writeUint64(writer, BatchTag.fromNode, batch.fromNode);
  writeUint64(writer, BatchTag.toNode, batch.toNode);
  for (const { group, messages } of batch.groups) {
    writer.uint32(BatchTag.groups).fork();
    if (group !== 0) writer.uint32(GroupTag.group).uint32(group);
    for (const message of messages) {
      writer.uint32(GroupTag.messages).fork();
      writeMessage(writer, message);
      writer.ldelim();
    }
    writer.ldelim();
  }
  const bytes = writer.finish();
  // Node's Buffer at run time; protobufjs's types declare a Buffer of their own, a bare Uint8Array.
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function writeMessage(w: Writer, m: Message): void {
  writeUint64(w, MessageTag.from, m.from);
  writeUint64(w, MessageTag.to, m.to);
  writeUint64(w, MessageTag.term, m.term);
  w.uint32(BodyTag[m.type]).fork();
  writeBody(w, m);
  w.ldelim();
}

/** The oneof member's fields, in field-number order. */
function writeBody(w: Writer, m: Message): void {
  switch (m.type) {
    case "app":
      writeUint64(w, AppTag.index, m.index);
      writeUint64(w, AppTag.logTerm, m.logTerm);
      for (const entry of m.entries) writeEntry(w, entry);
      writeUint64(w, AppTag.commit, m.commit);
      return;
    case "appResp":
      writeUint64(w, AppRespTag.index, m.index);
      writeBool(w, AppRespTag.reject, m.reject);
      writeUint64(w, AppRespTag.rejectHint, m.rejectHint);
      writeUint64(w, AppRespTag.logTerm, m.logTerm);
      return;
    case "vote":
    case "preVote":
      writeUint64(w, VoteTag.index, m.index);
      writeUint64(w, VoteTag.logTerm, m.logTerm);
      writeBool(w, VoteTag.transfer, m.transfer);
      return;
    case "voteResp":
    case "preVoteResp":
      writeBool(w, VoteRespTag.reject, m.reject);
      return;
    case "heartbeat":
      writeUint64(w, HeartbeatTag.commit, m.commit);
      writeUint64(w, HeartbeatTag.round, m.round);
      writeBool(w, HeartbeatTag.quiesce, m.quiesce === true);
      return;
    case "heartbeatResp":
      writeUint64(w, HeartbeatRespTag.round, m.round);
      return;
    case "snap":
      w.uint32(SnapTag.snapshot).fork();
      writeSnapshot(w, m.snapshot);
      w.ldelim();
      return;
    case "timeoutNow":
      return;
    case "prop":
      for (const entry of m.entries) {
        w.uint32(PropTag.entries).fork();
        writeEnum(w, ProposedEntryTag.type, ENTRY_TYPE_TO_WIRE[entry.type]);
        writeBytes(w, ProposedEntryTag.data, entry.data);
        w.ldelim();
      }
      return;
    case "readIndex":
      writeString(w, ReadIndexTag.context, m.context);
      writeBool(w, ReadIndexTag.lease, m.lease);
      return;
    case "readIndexResp":
      writeString(w, ReadIndexRespTag.context, m.context);
      writeUint64(w, ReadIndexRespTag.index, m.index);
      return;
    case "transferLeader":
      writeUint64(w, TransferLeaderTag.transferee, m.transferee);
      return;
    default: {
      const unknown: never = m;
      throw new Error(`Cannot encode a Raft message of unknown type: ${JSON.stringify(unknown)}`);
    }
  }
}

function writeEntry(w: Writer, entry: Entry): void {
  w.uint32(AppTag.entries).fork();
  writeUint64(w, EntryTag.term, entry.term);
  writeUint64(w, EntryTag.index, entry.index);
  writeEnum(w, EntryTag.type, ENTRY_TYPE_TO_WIRE[entry.type]);
  writeBytes(w, EntryTag.data, entry.data);
  w.ldelim();
}

function writeSnapshot(w: Writer, snapshot: Snapshot): void {
  const { meta } = snapshot;
  w.uint32(SnapshotTag.meta).fork();
  writeUint64(w, SnapshotMetaTag.index, meta.index);
  writeUint64(w, SnapshotMetaTag.term, meta.term);
  w.uint32(SnapshotMetaTag.confState).fork();
  writePacked(w, ConfStateTag.voters, meta.confState.voters);
  writePacked(w, ConfStateTag.learners, meta.confState.learners);
  w.ldelim();
  w.ldelim();
  writeBytes(w, SnapshotTag.data, snapshot.data);
}

/** A uint64 field from a JS number (Raft terms, indexes and ids, below 2^53); left out at 0. */
function writeUint64(w: Writer, tag: number, value: number): void {
  if (value === 0) return;
  w.uint32(tag);
  writeVarint64(w, value);
}

/** Below 2^32 a uint64's varint is the uint32 one, which protobufjs writes without building a LongBits. */
function writeVarint64(w: Writer, value: number): void {
  if (value <= 0xffff_ffff) w.uint32(value);
  else w.uint64(value);
}

function writePacked(w: Writer, tag: number, values: readonly number[]): void {
  if (values.length === 0) return;
  w.uint32(tag).fork();
  for (const value of values) writeVarint64(w, value);
  w.ldelim();
}

function writeBool(w: Writer, tag: number, value: boolean): void {
  if (value) w.uint32(tag).bool(true);
}

function writeEnum(w: Writer, tag: number, value: number): void {
  if (value !== 0) w.uint32(tag).int32(value);
}

function writeBytes(w: Writer, tag: number, value: Uint8Array): void {
  if (value.byteLength > 0) w.uint32(tag).bytes(value);
}

function writeString(w: Writer, tag: number, value: string): void {
  if (value.length > 0) w.uint32(tag).string(value);
}
