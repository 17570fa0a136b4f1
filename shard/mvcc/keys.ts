// Where each piece of a shard's state lives under its prefix P. One tag byte after P names the space:
//   P 'm'                          meta (applied index/term, confState, compactRevision, clock...)
//   P 'k' userKey                  a key's record: live, or a tombstone with its deletion revision
//   P 'e' rev:u64 sub:u32          a watch event, in revision order
//   P 'l' leaseId:u64              a lease (its granted TTL)
//   P 'a' leaseId:u64 userKey      a key attached to a lease (revoke finds keys without a scan)
//   P 't' expiresAtMs:u64 userKey  a key with a TTL, in expiry order
//   P 'd' deleteRev:u64 userKey    a tombstone, in deletion order (for purge)
// Numbers are big-endian so that byte order is numeric order. Nothing is ever written outside P.

import { readU64be, writeU64be } from "./wire.js";

const TAG_META = 0x6d; // 'm'
const TAG_KEY = 0x6b; // 'k'
const TAG_EVENT = 0x65; // 'e'
const TAG_LEASE = 0x6c; // 'l'
const TAG_ATTACH = 0x61; // 'a'
const TAG_TTL = 0x74; // 't'
const TAG_TOMBSTONE = 0x64; // 'd'

/** [gte, lt) over database keys; lt undefined means no upper bound. */
export interface DbRange {
  readonly gte: Uint8Array;
  readonly lt: Uint8Array | undefined;
}

export class KeyLayout {
  readonly prefix: Uint8Array;
  readonly meta: Uint8Array;
  private readonly base: number;
  /** P 'k' and room for a key: kvForRead writes into it instead of allocating a key per read. */
  private readScratch: Uint8Array;

  constructor(prefix: Uint8Array) {
    this.prefix = Uint8Array.from(prefix);
    this.base = prefix.length;
    this.meta = this.tagged(TAG_META, 0);
    this.readScratch = this.tagged(TAG_KEY, 256);
  }

  /** Everything of the shard: what a snapshot copies and a drop deletes. */
  all(): DbRange {
    return { gte: this.prefix, lt: successor(this.prefix) };
  }

  kv(userKey: Uint8Array): Uint8Array {
    const key = this.tagged(TAG_KEY, userKey.length);
    key.set(userKey, this.base + 1);
    return key;
  }

  /**
   * The same key as kv(), in a buffer that the next call overwrites: only for a synchronous read
   * that keeps neither the key nor a view of it (a point read is the hot path of every put and get).
   */
  kvForRead(userKey: Uint8Array): Uint8Array {
    const bytes = this.base + 1 + userKey.length;
    if (bytes > this.readScratch.length) this.readScratch = this.tagged(TAG_KEY, 2 * userKey.length);
    this.readScratch.set(userKey, this.base + 1);
    return this.readScratch.subarray(0, bytes);
  }

  /** [key, rangeEnd) with etcd's conventions: "\0" as rangeEnd means every key >= key. */
  kvRange(key: Uint8Array, rangeEnd: Uint8Array): DbRange {
    const everyKeyFrom = rangeEnd.length === 1 && rangeEnd[0] === 0;
    return { gte: this.kv(key), lt: everyKeyFrom ? this.tagged(TAG_KEY + 1, 0) : this.kv(rangeEnd) };
  }

  userKeyOfKv(dbKey: Uint8Array): Uint8Array {
    return dbKey.subarray(this.base + 1);
  }

  event(revision: number, sub: number): Uint8Array {
    const key = this.tagged(TAG_EVENT, 12);
    writeU64be(key, this.base + 1, revision);
    writeU32be(key, this.base + 9, sub);
    return key;
  }

  /** Events with fromRevision <= revision < toRevision (toRevision undefined: to the end). */
  eventRange(fromRevision: number, toRevision: number | undefined): DbRange {
    return {
      gte: this.event(Math.max(0, fromRevision), 0),
      lt: toRevision === undefined ? this.tagged(TAG_EVENT + 1, 0) : this.event(Math.max(0, toRevision), 0),
    };
  }

  revisionOfEvent(dbKey: Uint8Array): number {
    return readU64be(dbKey, this.base + 1);
  }

  lease(id: bigint): Uint8Array {
    const key = this.tagged(TAG_LEASE, 8);
    writeI64be(key, this.base + 1, id);
    return key;
  }

  leaseRange(): DbRange {
    return { gte: this.tagged(TAG_LEASE, 0), lt: this.tagged(TAG_LEASE + 1, 0) };
  }

  leaseIdOf(dbKey: Uint8Array): bigint {
    return readI64be(dbKey, this.base + 1);
  }

  attachment(id: bigint, userKey: Uint8Array): Uint8Array {
    const key = this.tagged(TAG_ATTACH, 8 + userKey.length);
    writeI64be(key, this.base + 1, id);
    key.set(userKey, this.base + 9);
    return key;
  }

  attachmentRange(id: bigint): DbRange {
    const gte = this.tagged(TAG_ATTACH, 8);
    writeI64be(gte, this.base + 1, id);
    return { gte, lt: successor(gte) };
  }

  ttl(expiresAtMs: number, userKey: Uint8Array): Uint8Array {
    const key = this.tagged(TAG_TTL, 8 + userKey.length);
    writeU64be(key, this.base + 1, expiresAtMs);
    key.set(userKey, this.base + 9);
    return key;
  }

  /** TTL entries with expiresAtMs <= nowMs. */
  ttlRangeUpTo(nowMs: number): DbRange {
    return { gte: this.tagged(TAG_TTL, 0), lt: this.ttl(nowMs + 1, new Uint8Array(0)) };
  }

  tombstone(deleteRevision: number, userKey: Uint8Array): Uint8Array {
    const key = this.tagged(TAG_TOMBSTONE, 8 + userKey.length);
    writeU64be(key, this.base + 1, deleteRevision);
    key.set(userKey, this.base + 9);
    return key;
  }

  /** Tombstones with deletion revision < beforeRevision. */
  tombstoneRangeBefore(beforeRevision: number): DbRange {
    return { gte: this.tagged(TAG_TOMBSTONE, 0), lt: this.tombstone(Math.max(0, beforeRevision), new Uint8Array(0)) };
  }

  /** The number and user key of an 'a', 't' or 'd' index entry. */
  numberOfIndexEntry(dbKey: Uint8Array): number {
    return readU64be(dbKey, this.base + 1);
  }

  userKeyOfIndexEntry(dbKey: Uint8Array): Uint8Array {
    return dbKey.subarray(this.base + 9);
  }

  private tagged(tag: number, extraBytes: number): Uint8Array {
    const key = new Uint8Array(this.base + 1 + extraBytes);
    key.set(this.prefix, 0);
    key[this.base] = tag;
    return key;
  }
}

/** The smallest key greater than every key starting with `bytes`; undefined if there is none. */
export function successor(bytes: Uint8Array): Uint8Array | undefined {
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i] !== 0xff) {
      const next = bytes.slice(0, i + 1);
      next[i] = next[i]! + 1;
      return next;
    }
  }
  return undefined;
}

function writeU32be(target: Uint8Array, at: number, value: number): void {
  target[at] = value >>> 24;
  target[at + 1] = (value >>> 16) & 0xff;
  target[at + 2] = (value >>> 8) & 0xff;
  target[at + 3] = value & 0xff;
}

/** Lease ids sort as unsigned 64-bit numbers in the key space; leases() re-sorts them as int64. */
function writeI64be(target: Uint8Array, at: number, id: bigint): void {
  const unsigned = BigInt.asUintN(64, id);
  writeU32be(target, at, Number(unsigned >> 32n));
  writeU32be(target, at + 4, Number(unsigned & 0xffffffffn));
}

function readI64be(source: Uint8Array, at: number): bigint {
  let unsigned = 0n;
  for (let i = 0; i < 8; i++) unsigned = (unsigned << 8n) | BigInt(source[at + i] ?? 0);
  return BigInt.asIntN(64, unsigned);
}

/** Node's native latin1 decoder, which accepts any Uint8Array (half the cost of Buffer.from + toString). */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice?: (this: Uint8Array, start: number, end: number) => string })
  .latin1Slice;

/** A string with one char per byte: a Map key, and `<` on two of them is byte order. */
export function bytesToLatin1(bytes: Uint8Array): string {
  if (latin1Slice !== undefined) return latin1Slice.call(bytes, 0, bytes.length);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** A key as it appears in messages: JSON-quoted UTF-8, cut after 64 characters. */
export function describeKey(key: Uint8Array): string {
  const text = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("utf8");
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}...` : text);
}

/** etcd's key range test: rangeEnd absent or empty is the key alone, "\0" is every key >= key. */
export function keyInRange(userKey: Uint8Array, key: Uint8Array, rangeEnd: Uint8Array | undefined): boolean {
  if (rangeEnd === undefined || rangeEnd.length === 0) return compareBytes(userKey, key) === 0;
  if (compareBytes(userKey, key) < 0) return false;
  return (rangeEnd.length === 1 && rangeEnd[0] === 0) || compareBytes(userKey, rangeEnd) < 0;
}

export function isSingleKey(rangeEnd: Uint8Array | undefined): rangeEnd is undefined {
  return rangeEnd === undefined || rangeEnd.length === 0;
}
