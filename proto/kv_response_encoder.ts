// Writes etcd's RangeResponse and PutResponse straight from the objects the KV handlers return
// (router/etcd_convert.ts: `Writable` shapes, int64 as decimal strings) to bytes with protobufjs's
// Writer, byte for byte what proto-loader's serializer (fromObject, then encode) writes: fields in
// number order, and a field written whenever the object holds it, defaults included ("0", false, an
// empty key, an empty sub-message); only a field that is missing, undefined or null (and kvs empty)
// is left out. A shape fromObject refuses (not an object, kvs not an array) is refused with a
// TypeError too; bytes must be a Uint8Array here, where fromObject also read base64 strings.

import protobuf from "protobufjs/minimal.js";
import type * as t from "./etcd_types.js";
import { type Int64Input, writeInt64 } from "./int64_decimal.js";
import * as tags from "./kv_wire_tags.js";
import { asBuffer } from "./node_buffer.js";
import type { Writable } from "./wire_types.js";

type Writer = protobuf.Writer;

// Bound once, here: under tsx and vitest each use of an imported name is a getter call.
const { KeyValueTag, PutResponseTag, RangeResponseTag, ResponseHeaderTag } = tags;

export function encodeRangeResponse(response: Writable<t.RangeResponse>): Buffer {
  requireMessage(response, "RangeResponse");
  const w = new protobuf.BufferWriter();
  const { header, kvs, more, count } = response;
  if (header != null) writeHeader(w, RangeResponseTag.header, header, "RangeResponse.header");
  // fromObject reads `if (d.kvs)`: an empty array, and any other falsy value, writes nothing.
  if (kvs) {
    if (!Array.isArray(kvs)) throw new TypeError("Cannot encode RangeResponse.kvs: expected an array");
    for (const kv of kvs) writeKeyValue(w, RangeResponseTag.kvs, kv, "RangeResponse.kvs");
  }
  if (more != null) w.uint32(RangeResponseTag.more).bool(more);
  writeInt64Field(w, RangeResponseTag.count, count, false);
  return asBuffer(w.finish());
}

export function encodePutResponse(response: Writable<t.PutResponse>): Buffer {
  requireMessage(response, "PutResponse");
  const w = new protobuf.BufferWriter();
  const { header, prev_kv } = response;
  if (header != null) writeHeader(w, PutResponseTag.header, header, "PutResponse.header");
  if (prev_kv != null) writeKeyValue(w, PutResponseTag.prev_kv, prev_kv, "PutResponse.prev_kv");
  return asBuffer(w.finish());
}

function writeHeader(w: Writer, tag: number, header: Writable<t.ResponseHeader>, field: string): void {
  requireObject(header, field);
  w.uint32(tag).fork();
  writeInt64Field(w, ResponseHeaderTag.cluster_id, header.cluster_id, true);
  writeInt64Field(w, ResponseHeaderTag.member_id, header.member_id, true);
  writeInt64Field(w, ResponseHeaderTag.revision, header.revision, false);
  writeInt64Field(w, ResponseHeaderTag.raft_term, header.raft_term, true);
  w.ldelim();
}

function writeKeyValue(w: Writer, tag: number, kv: Writable<t.KeyValue>, field: string): void {
  requireObject(kv, field);
  w.uint32(tag).fork();
  writeBytesField(w, KeyValueTag.key, kv.key, field);
  writeInt64Field(w, KeyValueTag.create_revision, kv.create_revision, false);
  writeInt64Field(w, KeyValueTag.mod_revision, kv.mod_revision, false);
  writeInt64Field(w, KeyValueTag.version, kv.version, false);
  writeBytesField(w, KeyValueTag.value, kv.value, field);
  writeInt64Field(w, KeyValueTag.lease, kv.lease, false);
  w.ldelim();
}

function writeInt64Field(w: Writer, tag: number, value: Int64Input | null | undefined, unsigned: boolean): void {
  if (value == null) return;
  w.uint32(tag);
  writeInt64(w, value, unsigned);
}

function writeBytesField(w: Writer, tag: number, value: Uint8Array | null | undefined, field: string): void {
  if (value == null) return;
  if (!(value instanceof Uint8Array)) throw new TypeError(`Cannot encode a bytes field of ${field}: expected a Uint8Array, got ${typeof value}`);
  w.uint32(tag).bytes(value);
}

/** proto-loader's serializer refuses an array, and fromObject anything but an object. */
function requireMessage(value: object, message: string): void {
  if (Array.isArray(value)) throw new TypeError(`Cannot encode a ${message}: expected an object, got an array`);
  requireObject(value, message);
}

function requireObject(value: object, field: string): void {
  // The types promise an object; the handlers' values are checked at run time, as fromObject does.
  const kind: string = value === null ? "null" : typeof value;
  if (kind !== "object") throw new TypeError(`Cannot encode ${field}: expected an object, got ${kind}`);
}
