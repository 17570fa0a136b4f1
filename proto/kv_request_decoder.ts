// Reads etcd's RangeRequest and PutRequest straight from the bytes with protobufjs's Reader, into the
// very objects proto-loader's deserializer makes with our options (proto/load.ts): every field present
// at its proto3 default, int64 as decimal strings, bytes as Buffer views into the received message,
// enums as numbers (a number of no known name included). It takes whatever a conforming encoder
// writes: fields in any order, repeated (the last wins), unknown ones skipped, a known field number
// with another wire type among them (protobuf-go's rule; protobufjs would misread it). Bytes that are
// no such message throw MalformedMessage and nothing else: grpc-js answers INTERNAL, as before.

import protobuf from "protobufjs/minimal.js";
import type * as t from "./etcd_types.js";
import { readInt64 } from "./int64_decimal.js";
import * as tags from "./kv_wire_tags.js";
import { MalformedMessage } from "./malformed_message.js";
import { asBuffer } from "./node_buffer.js";
import { skipUnknown, subMessageEnd } from "./wire_format.js";

type Reader = protobuf.BufferReader;

// Bound once, here: under tsx and vitest each use of an imported name is a getter call.
const { PutRequestTag, RangeRequestTag } = tags;

/**
 * Every empty bytes field, absent or sent empty: no bytes to change, so one Buffer serves all
 * (Buffer.alloc(0), as proto-loader makes each, cost ~0.2 us, half of a small request's decoding).
 */
const EMPTY: Buffer = Buffer.alloc(0);

export function decodeRangeRequest(bytes: Buffer): t.RangeRequest {
  try {
    return readRangeRequest(readerOf(bytes));
  } catch (error) {
    throw malformed("RangeRequest", bytes, error);
  }
}

export function decodePutRequest(bytes: Buffer): t.PutRequest {
  try {
    return readPutRequest(readerOf(bytes));
  } catch (error) {
    throw malformed("PutRequest", bytes, error);
  }
}

function readRangeRequest(reader: Reader): t.RangeRequest {
  let key: Buffer | undefined;
  let range_end: Buffer | undefined;
  let limit = "0";
  let revision = "0";
  let sort_order = 0;
  let sort_target = 0;
  let serializable = false;
  let keys_only = false;
  let count_only = false;
  let min_mod_revision = "0";
  let max_mod_revision = "0";
  let min_create_revision = "0";
  let max_create_revision = "0";
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    switch (tag) {
      case RangeRequestTag.key:
        key = readBytes(reader);
        break;
      case RangeRequestTag.range_end:
        range_end = readBytes(reader);
        break;
      case RangeRequestTag.limit:
        limit = readInt64(reader);
        break;
      case RangeRequestTag.revision:
        revision = readInt64(reader);
        break;
      case RangeRequestTag.sort_order:
        sort_order = reader.int32();
        break;
      case RangeRequestTag.sort_target:
        sort_target = reader.int32();
        break;
      case RangeRequestTag.serializable:
        serializable = reader.bool();
        break;
      case RangeRequestTag.keys_only:
        keys_only = reader.bool();
        break;
      case RangeRequestTag.count_only:
        count_only = reader.bool();
        break;
      case RangeRequestTag.min_mod_revision:
        min_mod_revision = readInt64(reader);
        break;
      case RangeRequestTag.max_mod_revision:
        max_mod_revision = readInt64(reader);
        break;
      case RangeRequestTag.min_create_revision:
        min_create_revision = readInt64(reader);
        break;
      case RangeRequestTag.max_create_revision:
        max_create_revision = readInt64(reader);
        break;
      default:
        skipUnknown(reader, tag);
    }
  }
  return {
    key: key ?? EMPTY,
    range_end: range_end ?? EMPTY,
    limit,
    revision,
    sort_order: openEnum<t.SortOrder>(sort_order),
    sort_target: openEnum<t.SortTarget>(sort_target),
    serializable,
    keys_only,
    count_only,
    min_mod_revision,
    max_mod_revision,
    min_create_revision,
    max_create_revision,
  };
}

function readPutRequest(reader: Reader): t.PutRequest {
  let key: Buffer | undefined;
  let value: Buffer | undefined;
  let lease = "0";
  let prev_kv = false;
  let ignore_value = false;
  let ignore_lease = false;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    switch (tag) {
      case PutRequestTag.key:
        key = readBytes(reader);
        break;
      case PutRequestTag.value:
        value = readBytes(reader);
        break;
      case PutRequestTag.lease:
        lease = readInt64(reader);
        break;
      case PutRequestTag.prev_kv:
        prev_kv = reader.bool();
        break;
      case PutRequestTag.ignore_value:
        ignore_value = reader.bool();
        break;
      case PutRequestTag.ignore_lease:
        ignore_lease = reader.bool();
        break;
      default:
        skipUnknown(reader, tag);
    }
  }
  return { key: key ?? EMPTY, value: value ?? EMPTY, lease, prev_kv, ignore_value, ignore_lease };
}

/** A bytes field as a view into the received message, as proto-loader's is. */
function readBytes(reader: Reader): Buffer {
  const end = subMessageEnd(reader, reader.len);
  const start = reader.pos;
  reader.pos = end;
  return end === start ? EMPTY : asBuffer(reader.buf.subarray(start, end));
}

/** A Buffer reader, whose bytes fields are Buffers as proto-loader's are (grpc-js hands deserializers Buffers). */
function readerOf(bytes: Uint8Array): Reader {
  return new protobuf.BufferReader(asBuffer(bytes));
}

/**
 * proto3 enums are open: whatever int32 was sent is the field's value, and a number with no name
 * in the enum is the UnknownEnumValue that the decoded type allows for (proto/wire_types.ts).
 */
function openEnum<E extends number>(value: number): E {
  return value as E;
}

/** Every failure of a read is about the bytes: protobufjs's Reader throws RangeError or Error, readInt64 RangeError, wire_format.ts MalformedBytes. */
function malformed(message: string, bytes: Uint8Array, error: unknown): MalformedMessage {
  const reason = error instanceof Error ? error.message : String(error);
  return new MalformedMessage(`Cannot read a ${message} of ${bytes.byteLength} bytes: ${reason}`, { cause: error });
}
