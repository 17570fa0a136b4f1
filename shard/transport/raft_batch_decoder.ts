// Reads peer.proto RaftBatch bytes straight into raft/types.ts messages, accepting whatever a protobuf
// encoder may write: fields in any order, unknown fields (skipped), repeated uint64 packed or not,
// missing fields as their defaults, a repeated oneof member (the last one wins). Entry and snapshot
// data are copied out of the received bytes. Never throws on what a peer sent: a message that cannot
// be read becomes a PeerProtocolError in its group's `unreadable` and costs only itself; a batch
// whose framing is broken outside any message is unreadable as a whole.

import { peer } from "../../proto/index.js";
import type { ConfState, Entry, EntryType, Message, MsgSnap, ProposedEntry, Snapshot, SnapshotMeta } from "../../raft/index.js";
import { asProtocolError, PeerProtocolError } from "./peer_protocol_error.js";
import type { DecodedRaftBatch, ReceivedGroup, ReceivedRaftBatch } from "./raft_batch.js";
import * as tags from "./raft_wire_tags.js";
import { wire } from "../../proto/index.js";

// Bound once, here: under tsx and vitest each use of an imported name is a getter call, which the
// loops below would pay for every field of every message.
const { AppRespTag, AppTag, BatchTag, BodyTag, ConfStateTag, EntryTag, GroupTag, HeartbeatRespTag, HeartbeatTag, MessageTag } = tags;
const { PropTag, ProposedEntryTag, ReadIndexRespTag, ReadIndexTag, SnapshotMetaTag, SnapshotTag, SnapTag, TransferLeaderTag, VoteRespTag, VoteTag } = tags;
const { expectEnd, readBytesCopy, readerOf, readPackedUint53, readString, readUint53, skipUnknown, subMessageEnd } = wire;
type Reader = wire.Reader;
const ENTRY_TYPE_NORMAL = peer.EntryType.ENTRY_TYPE_NORMAL;
const ENTRY_TYPE_CONF_CHANGE = peer.EntryType.ENTRY_TYPE_CONF_CHANGE;

const BODY_TAGS: ReadonlySet<number> = new Set(Object.values(BodyTag));

export function decodeRaftBatch(bytes: Uint8Array): DecodedRaftBatch {
  try {
    return { ok: true, batch: readBatch(readerOf(bytes)) };
  } catch (error) {
    return { ok: false, error: asProtocolError(error, `Cannot read a RaftBatch of ${bytes.byteLength} bytes`) };
  }
}

function readBatch(reader: Reader): ReceivedRaftBatch {
  let fromNode = 0;
  let toNode = 0;
  const groups: ReceivedGroup[] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    switch (tag) {
      case BatchTag.fromNode:
        fromNode = readUint53(reader);
        break;
      case BatchTag.toNode:
        toNode = readUint53(reader);
        break;
      case BatchTag.groups:
        groups.push(readGroup(reader, subMessageEnd(reader, reader.len)));
        break;
      default:
        skipUnknown(reader, tag);
    }
  }
  expectEnd(reader, reader.len);
  return { fromNode, toNode, groups };
}

function readGroup(reader: Reader, end: number): ReceivedGroup {
  let group = 0;
  const messages: Message[] = [];
  const unreadable: PeerProtocolError[] = [];
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag) {
      case GroupTag.group:
        group = reader.uint32();
        break;
      case GroupTag.messages: {
        const messageEnd = subMessageEnd(reader, end);
        const start = reader.pos;
        try {
          messages.push(readMessage(reader, messageEnd));
        } catch (error) {
          unreadable.push(asProtocolError(error, `Cannot read a Raft message at offset ${start}`));
          reader.pos = messageEnd;
        }
        break;
      }
      default:
        skipUnknown(reader, tag);
    }
  }
  expectEnd(reader, end);
  return { group, messages, unreadable };
}

/** The envelope may come after the body (fields in any order): the body is read last, once it is known. */
function readMessage(reader: Reader, end: number): Message {
  let from = 0;
  let to = 0;
  let term = 0;
  let bodyTag = 0;
  let bodyStart = 0;
  let bodyEnd = 0;
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag) {
      case MessageTag.from:
        from = readUint53(reader);
        break;
      case MessageTag.to:
        to = readUint53(reader);
        break;
      case MessageTag.term:
        term = readUint53(reader);
        break;
      default:
        if (!BODY_TAGS.has(tag)) {
          skipUnknown(reader, tag);
          break;
        }
        bodyEnd = subMessageEnd(reader, end);
        bodyTag = tag;
        bodyStart = reader.pos;
        reader.pos = bodyEnd;
    }
  }
  expectEnd(reader, end);
  if (bodyTag === 0) throw new PeerProtocolError(`Cannot read a Raft message from ${from} to ${to}: it has no body (a newer message type?)`);
  reader.pos = bodyStart;
  const message = readBody(reader, bodyTag, bodyEnd, from, to, term);
  expectEnd(reader, bodyEnd);
  reader.pos = end;
  return message;
}

/**
 * Each body's reader reads its fields up to `end`; readMessage then checks that the last one ended
 * there. The envelope comes as three numbers and each message is built in one literal: spreading an
 * envelope object into it took half of the decoding time.
 */
function readBody(reader: Reader, bodyTag: number, end: number, from: number, to: number, term: number): Message {
  switch (bodyTag) {
    case BodyTag.app:
      return readApp(reader, end, from, to, term);
    case BodyTag.appResp:
      return readAppResp(reader, end, from, to, term);
    case BodyTag.vote:
      return readVote(reader, end, from, to, term, "vote");
    case BodyTag.preVote:
      return readVote(reader, end, from, to, term, "preVote");
    case BodyTag.voteResp:
      return { type: "voteResp", from, to, term, reject: readVoteReject(reader, end) };
    case BodyTag.preVoteResp:
      return { type: "preVoteResp", from, to, term, reject: readVoteReject(reader, end) };
    case BodyTag.heartbeat:
      return readHeartbeat(reader, end, from, to, term);
    case BodyTag.heartbeatResp:
      return { type: "heartbeatResp", from, to, term, round: readSingleUint53(reader, end, HeartbeatRespTag.round) };
    case BodyTag.snap:
      return readSnap(reader, end, from, to, term);
    case BodyTag.timeoutNow:
      skipFields(reader, end);
      return { type: "timeoutNow", from, to, term };
    case BodyTag.prop:
      return readProp(reader, end, from, to, term);
    case BodyTag.readIndex:
      return readReadIndex(reader, end, from, to, term);
    case BodyTag.readIndexResp:
      return readReadIndexResp(reader, end, from, to, term);
    case BodyTag.transferLeader:
      return { type: "transferLeader", from, to, term, transferee: readSingleUint53(reader, end, TransferLeaderTag.transferee) };
    default:
      throw new Error(`Cannot read a Raft message body with tag ${bodyTag}: readMessage passed a tag that is not a body's`);
  }
}

function readApp(reader: Reader, end: number, from: number, to: number, term: number): Message {
  let index = 0;
  let logTerm = 0;
  let commit = 0;
  const entries: Entry[] = [];
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag) {
      case AppTag.index:
        index = readUint53(reader);
        break;
      case AppTag.logTerm:
        logTerm = readUint53(reader);
        break;
      case AppTag.entries:
        entries.push(readEntry(reader, subMessageEnd(reader, end)));
        break;
      case AppTag.commit:
        commit = readUint53(reader);
        break;
      default:
        skipUnknown(reader, tag);
    }
  }
  return { type: "app", from, to, term, index, logTerm, entries, commit };
}

function readEntry(reader: Reader, end: number): Entry {
  let term = 0;
  let index = 0;
  let type = 0;
  let data: Uint8Array | undefined;
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag) {
      case EntryTag.term:
        term = readUint53(reader);
        break;
      case EntryTag.index:
        index = readUint53(reader);
        break;
      case EntryTag.type:
        type = reader.int32();
        break;
      case EntryTag.data:
        data = readBytesCopy(reader, end);
        break;
      default:
        skipUnknown(reader, tag);
    }
  }
  expectEnd(reader, end);
  return { term, index, type: entryType(type), data: data ?? new Uint8Array(0) };
}

function readAppResp(reader: Reader, end: number, from: number, to: number, term: number): Message {
  let index = 0;
  let reject = false;
  let rejectHint = 0;
  let logTerm = 0;
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag) {
      case AppRespTag.index:
        index = readUint53(reader);
        break;
      case AppRespTag.reject:
        reject = reader.bool();
        break;
      case AppRespTag.rejectHint:
        rejectHint = readUint53(reader);
        break;
      case AppRespTag.logTerm:
        logTerm = readUint53(reader);
        break;
      default:
        skipUnknown(reader, tag);
    }
  }
  return { type: "appResp", from, to, term, index, reject, rejectHint, logTerm };
}

function readVote(reader: Reader, end: number, from: number, to: number, term: number, type: "vote" | "preVote"): Message {
  let index = 0;
  let logTerm = 0;
  let transfer = false;
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag) {
      case VoteTag.index:
        index = readUint53(reader);
        break;
      case VoteTag.logTerm:
        logTerm = readUint53(reader);
        break;
      case VoteTag.transfer:
        transfer = reader.bool();
        break;
      default:
        skipUnknown(reader, tag);
    }
  }
  return { type, from, to, term, index, logTerm, transfer };
}

function readVoteReject(reader: Reader, end: number): boolean {
  let reject = false;
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === VoteRespTag.reject) reject = reader.bool();
    else skipUnknown(reader, tag);
  }
  return reject;
}

function readHeartbeat(reader: Reader, end: number, from: number, to: number, term: number): Message {
  let commit = 0;
  let round = 0;
  let quiesce = false;
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag) {
      case HeartbeatTag.commit:
        commit = readUint53(reader);
        break;
      case HeartbeatTag.round:
        round = readUint53(reader);
        break;
      case HeartbeatTag.quiesce:
        quiesce = reader.bool();
        break;
      default:
        skipUnknown(reader, tag);
    }
  }
  // raft/types.ts leaves `quiesce` off a heartbeat that is not the leader's last.
  return quiesce ? { type: "heartbeat", from, to, term, commit, round, quiesce } : { type: "heartbeat", from, to, term, commit, round };
}

/** A message whose only field is one uint64 (MsgHeartbeatResp.round, MsgTransferLeader.transferee). */
function readSingleUint53(reader: Reader, end: number, fieldTag: number): number {
  let value = 0;
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === fieldTag) value = readUint53(reader);
    else skipUnknown(reader, tag);
  }
  return value;
}

function readSnap(reader: Reader, end: number, from: number, to: number, term: number): MsgSnap {
  let snapshot: Snapshot | undefined;
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === SnapTag.snapshot) snapshot = readSnapshot(reader, subMessageEnd(reader, end), from);
    else skipUnknown(reader, tag);
  }
  if (snapshot === undefined) throw new PeerProtocolError(`Cannot read a snapshot message from ${from}: it has no snapshot`);
  return { type: "snap", from, to, term, snapshot };
}

function readSnapshot(reader: Reader, end: number, from: number): Snapshot {
  let meta: SnapshotMeta | undefined;
  let data: Uint8Array | undefined;
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === SnapshotTag.meta) meta = readSnapshotMeta(reader, subMessageEnd(reader, end));
    else if (tag === SnapshotTag.data) data = readBytesCopy(reader, end);
    else skipUnknown(reader, tag);
  }
  expectEnd(reader, end);
  if (meta === undefined) throw new PeerProtocolError(`Cannot read the snapshot from ${from}: it has no metadata (index, term, membership)`);
  return { meta, data: data ?? new Uint8Array(0) };
}

function readSnapshotMeta(reader: Reader, end: number): SnapshotMeta {
  let index = 0;
  let term = 0;
  let confState: ConfState | undefined;
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag) {
      case SnapshotMetaTag.index:
        index = readUint53(reader);
        break;
      case SnapshotMetaTag.term:
        term = readUint53(reader);
        break;
      case SnapshotMetaTag.confState:
        confState = readConfState(reader, subMessageEnd(reader, end));
        break;
      default:
        skipUnknown(reader, tag);
    }
  }
  expectEnd(reader, end);
  if (confState === undefined) throw new PeerProtocolError(`Cannot read the snapshot at index ${index}: it has no membership (confState)`);
  return { index, term, confState };
}

function readConfState(reader: Reader, end: number): ConfState {
  const voters: number[] = [];
  const learners: number[] = [];
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag) {
      case ConfStateTag.voters:
        readPackedUint53(reader, end, voters);
        break;
      case ConfStateTag.votersUnpacked:
        voters.push(readUint53(reader));
        break;
      case ConfStateTag.learners:
        readPackedUint53(reader, end, learners);
        break;
      case ConfStateTag.learnersUnpacked:
        learners.push(readUint53(reader));
        break;
      default:
        skipUnknown(reader, tag);
    }
  }
  expectEnd(reader, end);
  return { voters, learners };
}

function readProp(reader: Reader, end: number, from: number, to: number, term: number): Message {
  const entries: ProposedEntry[] = [];
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === PropTag.entries) entries.push(readProposedEntry(reader, subMessageEnd(reader, end)));
    else skipUnknown(reader, tag);
  }
  return { type: "prop", from, to, term, entries };
}

function readProposedEntry(reader: Reader, end: number): ProposedEntry {
  let type = 0;
  let data: Uint8Array | undefined;
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === ProposedEntryTag.type) type = reader.int32();
    else if (tag === ProposedEntryTag.data) data = readBytesCopy(reader, end);
    else skipUnknown(reader, tag);
  }
  expectEnd(reader, end);
  return { type: entryType(type), data: data ?? new Uint8Array(0) };
}

function readReadIndex(reader: Reader, end: number, from: number, to: number, term: number): Message {
  let context = "";
  let lease = false;
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === ReadIndexTag.context) context = readString(reader, end);
    else if (tag === ReadIndexTag.lease) lease = reader.bool();
    else skipUnknown(reader, tag);
  }
  return { type: "readIndex", from, to, term, context, lease };
}

function readReadIndexResp(reader: Reader, end: number, from: number, to: number, term: number): Message {
  let context = "";
  let index = 0;
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === ReadIndexRespTag.context) context = readString(reader, end);
    else if (tag === ReadIndexRespTag.index) index = readUint53(reader);
    else skipUnknown(reader, tag);
  }
  return { type: "readIndexResp", from, to, term, context, index };
}

function skipFields(reader: Reader, end: number): void {
  while (reader.pos < end) skipUnknown(reader, reader.uint32());
}

function entryType(type: number): EntryType {
  switch (type) {
    case ENTRY_TYPE_NORMAL:
      return "normal";
    case ENTRY_TYPE_CONF_CHANGE:
      return "confChange";
    default:
      // proto3 enums are open: a newer peer may send a type this version does not know.
      throw new PeerProtocolError(`Cannot read an entry of type ${type}: this node knows types 0 and 1; upgrade it to the peer's version`);
  }
}
