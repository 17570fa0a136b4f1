// The bytes of a key's record (P 'k' key) and of a watch event (P 'e' rev sub). A record is
//   u8 flags (1 tombstone, 2 lease, 4 expiry) | modRevision | createRevision | version | [lease u64] | [expiresAtMs] | value...
// with varints; a tombstone stops after modRevision (its deletion revision). An event is
//   u8 flags (1 delete, 2 prevKv) | key | (put: record bytes | delete: revision) | [prev record...]
// The format version lives in the meta record; these codecs never see a key outside the prefix.

import { ByteReader, ByteWriter, uvarintBytes } from "./wire.js";
import type { KeyValue, WatchEvent } from "./requests.js";

const TOMBSTONE = 1;
const HAS_LEASE = 2;
const HAS_EXPIRY = 4;

export type KeyRecord =
  | { readonly tombstone: false; readonly kv: KeyValue }
  | { readonly tombstone: true; readonly deletedRevision: number };

export function encodeLiveRecord(kv: KeyValue): Uint8Array {
  const writer = new ByteWriter(liveRecordBytes(kv));
  writeLive(writer, kv);
  return writer.finish();
}

/** The exact size of a live record: writers sized by it allocate once and return no view. */
function liveRecordBytes(kv: KeyValue): number {
  const numbers = uvarintBytes(kv.modRevision) + uvarintBytes(kv.createRevision) + uvarintBytes(kv.version);
  const optional = (kv.lease !== 0n ? 8 : 0) + (kv.expiresAtMs !== undefined ? uvarintBytes(kv.expiresAtMs) : 0);
  return 1 + numbers + optional + kv.value.length;
}

function writeLive(writer: ByteWriter, kv: KeyValue): void {
  const hasLease = kv.lease !== 0n;
  const hasExpiry = kv.expiresAtMs !== undefined;
  writer.u8((hasLease ? HAS_LEASE : 0) | (hasExpiry ? HAS_EXPIRY : 0));
  writer.uvarint(kv.modRevision);
  writer.uvarint(kv.createRevision);
  writer.uvarint(kv.version);
  if (hasLease) writer.u64(kv.lease);
  if (kv.expiresAtMs !== undefined) writer.uvarint(kv.expiresAtMs);
  writer.raw(kv.value);
}

export function encodeTombstone(deletedRevision: number): Uint8Array {
  const writer = new ByteWriter(10);
  writer.u8(TOMBSTONE);
  writer.uvarint(deletedRevision);
  return writer.finish();
}

export function decodeKeyRecord(userKey: Uint8Array, bytes: Uint8Array): KeyRecord {
  const reader = new ByteReader(bytes, "key record");
  const flags = reader.u8();
  if (flags & TOMBSTONE) return { tombstone: true, deletedRevision: reader.uvarint() };
  return { tombstone: false, kv: readLive(reader, userKey, flags) };
}

function readLive(reader: ByteReader, key: Uint8Array, flags: number): KeyValue {
  const modRevision = reader.uvarint();
  const createRevision = reader.uvarint();
  const version = reader.uvarint();
  const lease = flags & HAS_LEASE ? reader.i64() : 0n;
  if (flags & HAS_EXPIRY) {
    const expiresAtMs = reader.uvarint();
    return { key, value: reader.rest(), createRevision, modRevision, version, lease, expiresAtMs };
  }
  return { key, value: reader.rest(), createRevision, modRevision, version, lease };
}

/** The kv of a delete event: the key and the deletion revision, every other field zero (as etcd). */
export function deletedKv(key: Uint8Array, revision: number): KeyValue {
  return { key, value: new Uint8Array(0), createRevision: 0, modRevision: revision, version: 0, lease: 0n };
}

export function encodeEvent(event: WatchEvent): Uint8Array {
  if (event.type === "put") return encodePutEvent(event.kv.key, encodeLiveRecord(event.kv), event.prevKv);
  const writer = new ByteWriter(64 + event.kv.key.length + (event.prevKv?.value.length ?? 0));
  writer.u8(1 | (event.prevKv !== undefined ? 2 : 0));
  writer.bytes(event.kv.key);
  writer.uvarint(event.kv.modRevision);
  if (event.prevKv !== undefined) writeLive(writer, event.prevKv);
  return writer.finish();
}

/**
 * The put event of `key` whose new record is `record` (encodeLiveRecord's bytes): a put stores the
 * same record under its key and inside its event, so it is encoded once for both.
 */
export function encodePutEvent(key: Uint8Array, record: Uint8Array, prevKv: KeyValue | undefined): Uint8Array {
  const prevBytes = prevKv === undefined ? 0 : liveRecordBytes(prevKv);
  const writer = new ByteWriter(1 + uvarintBytes(key.length) + key.length + uvarintBytes(record.length) + record.length + prevBytes);
  writer.u8(prevKv !== undefined ? 2 : 0);
  writer.bytes(key);
  writer.bytes(record);
  if (prevKv !== undefined) writeLive(writer, prevKv);
  return writer.finish();
}

export function decodeEvent(bytes: Uint8Array): WatchEvent {
  const reader = new ByteReader(bytes, "event");
  const flags = reader.u8();
  const key = reader.bytes();
  let kv: KeyValue;
  if (flags & 1) {
    kv = deletedKv(key, reader.uvarint());
  } else {
    const record = new ByteReader(reader.bytes(), "event record");
    kv = readLive(record, key, record.u8());
  }
  if (!(flags & 2)) return { type: flags & 1 ? "delete" : "put", kv };
  const prevKv = readLive(reader, key, reader.u8());
  return { type: flags & 1 ? "delete" : "put", kv, prevKv };
}
