// The write-ahead log's records and their framing. A record is
//   u32 payload bytes | u32 CRC32C of (kind, payload) | u8 kind | payload
// little-endian, so that a reader can tell a whole record from a torn or flipped one. Numbers that
// can outgrow 32 bits (terms, indexes) take 48 bits: exact in a JavaScript number, and 2^48 entries
// is beyond any shard's life.

import { crc32c } from "@node-rs/crc32";
import type { ConfState, Entry, EntryType, HardState } from "../../raft/index.js";

export type GroupId = number;

export type WalRecord =
  /** Entries of one group; the first may overwrite what the log holds from its index on (Raft §5.3). */
  | { readonly kind: "entries"; readonly group: GroupId; readonly entries: readonly Entry[] }
  | { readonly kind: "hardState"; readonly group: GroupId; readonly hardState: HardState }
  /**
   * The group's state now comes from a snapshot at `index`: its log restarts after it. The membership
   * at `index` travels along, because the Raft core rebuilds its configuration history from there.
   */
  | { readonly kind: "snapshot"; readonly group: GroupId; readonly index: number; readonly term: number; readonly confState: ConfState }
  /** The state machine made everything up to `index` (of `term`) durable: the log may forget it. */
  | { readonly kind: "compact"; readonly group: GroupId; readonly index: number; readonly term: number; readonly confState: ConfState };

export type RecordKind = WalRecord["kind"];

export const RECORD_HEADER_BYTES = 9;
const U48_MAX = 2 ** 48 - 1;
const ENTRY_HEADER_BYTES = 6 + 6 + 1 + 4;

const KIND_CODES: Record<RecordKind, number> = { entries: 1, hardState: 2, snapshot: 3, compact: 4 };
const KINDS: readonly (RecordKind | undefined)[] = [undefined, "entries", "hardState", "snapshot", "compact"];
const ENTRY_TYPES: readonly EntryType[] = ["normal", "confChange"];

/** The framed bytes of one record. */
export function encodeRecord(record: WalRecord): Buffer {
  const payloadBytes = payloadSize(record);
  const buf = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payloadBytes);
  buf.writeUInt32LE(payloadBytes, 0);
  buf.writeUInt8(KIND_CODES[record.kind], 8);
  let at = RECORD_HEADER_BYTES;
  at = buf.writeUInt32LE(record.group, at);
  switch (record.kind) {
    case "entries":
      at = buf.writeUInt32LE(record.entries.length, at);
      for (const entry of record.entries) at = writeEntry(buf, at, entry);
      break;
    case "hardState":
      at = writeU48(buf, at, record.hardState.term);
      at = buf.writeUInt32LE(record.hardState.vote, at);
      at = writeU48(buf, at, record.hardState.commit);
      break;
    case "snapshot":
    case "compact":
      at = writeU48(buf, at, record.index);
      at = writeU48(buf, at, record.term);
      at = writeIds(buf, at, record.confState.voters);
      at = writeIds(buf, at, record.confState.learners);
      break;
  }
  buf.writeUInt32LE(crc32c(buf.subarray(8)), 4);
  return buf;
}

function payloadSize(record: WalRecord): number {
  switch (record.kind) {
    case "entries": {
      let bytes = 4 + 4;
      for (const entry of record.entries) bytes += ENTRY_HEADER_BYTES + entry.data.byteLength;
      return bytes;
    }
    case "hardState":
      return 4 + 6 + 4 + 6;
    case "snapshot":
    case "compact":
      return 4 + 6 + 6 + 4 + 4 * record.confState.voters.length + 4 + 4 * record.confState.learners.length;
  }
}

function writeIds(buf: Buffer, at: number, ids: readonly number[]): number {
  at = buf.writeUInt32LE(ids.length, at);
  for (const id of ids) at = buf.writeUInt32LE(id, at);
  return at;
}

function writeU48(buf: Buffer, at: number, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > U48_MAX) throw new RangeError(`${value} does not fit the log's 48-bit field`);
  return buf.writeUIntLE(value, at, 6);
}

function writeEntry(buf: Buffer, at: number, entry: Entry): number {
  at = writeU48(buf, at, entry.term);
  at = writeU48(buf, at, entry.index);
  at = buf.writeUInt8(ENTRY_TYPES.indexOf(entry.type), at);
  at = buf.writeUInt32LE(entry.data.byteLength, at);
  buf.set(entry.data, at);
  return at + entry.data.byteLength;
}

/** What is at `offset` of a segment: a whole record, or why there is none. */
export type FrameResult =
  | { readonly ok: true; readonly record: WalRecord; readonly bytes: number }
  | { readonly ok: false; readonly problem: FrameProblem; readonly reason: string };

export type FrameProblem = "shortHeader" | "pastEnd" | "tooLarge" | "checksum" | "malformed";

/**
 * Reads the record framed at `offset`. Entry data is copied out of `buf`, so that the segment's
 * buffer can be dropped after recovery.
 */
export function readRecord(buf: Buffer, offset: number, recordBytesMax: number): FrameResult {
  const left = buf.length - offset;
  if (left < RECORD_HEADER_BYTES) return { ok: false, problem: "shortHeader", reason: `only ${left} bytes left, fewer than a record header` };
  const payloadBytes = buf.readUInt32LE(offset);
  if (payloadBytes > recordBytesMax) return { ok: false, problem: "tooLarge", reason: `a record of ${payloadBytes} bytes is over the ${recordBytesMax}-byte limit` };
  if (payloadBytes > left - RECORD_HEADER_BYTES) return { ok: false, problem: "pastEnd", reason: `a record of ${payloadBytes} bytes runs past the end of the file` };
  const end = offset + RECORD_HEADER_BYTES + payloadBytes;
  const expected = buf.readUInt32LE(offset + 4);
  const actual = crc32c(buf.subarray(offset + 8, end));
  if (expected !== actual) return { ok: false, problem: "checksum", reason: `checksum ${hex(actual)} does not match the stored ${hex(expected)}` };
  try {
    return { ok: true, record: decodePayload(buf, offset + 8, end), bytes: end - offset };
  } catch (error) {
    return { ok: false, problem: "malformed", reason: error instanceof Error ? error.message : String(error) };
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(8, "0");
}

function decodePayload(buf: Buffer, start: number, end: number): WalRecord {
  const kind = KINDS[buf.readUInt8(start)];
  let at = start + 1;
  const need = (bytes: number): number => {
    if (at + bytes > end) throw new Error("the record's fields run past its length");
    const here = at;
    at += bytes;
    return here;
  };
  const group = buf.readUInt32LE(need(4));
  let record: WalRecord;
  switch (kind) {
    case "entries": {
      const count = buf.readUInt32LE(need(4));
      const entries: Entry[] = [];
      for (let i = 0; i < count; i++) {
        const term = buf.readUIntLE(need(6), 6);
        const index = buf.readUIntLE(need(6), 6);
        const type = ENTRY_TYPES[buf.readUInt8(need(1))];
        if (type === undefined) throw new Error(`entry ${index} has an unknown type`);
        const length = buf.readUInt32LE(need(4));
        const from = need(length);
        entries.push({ term, index, type, data: Uint8Array.prototype.slice.call(buf, from, from + length) });
      }
      record = { kind, group, entries };
      break;
    }
    case "hardState": {
      const term = buf.readUIntLE(need(6), 6);
      const vote = buf.readUInt32LE(need(4));
      const commit = buf.readUIntLE(need(6), 6);
      record = { kind, group, hardState: { term, vote, commit } };
      break;
    }
    case "snapshot":
    case "compact": {
      const index = buf.readUIntLE(need(6), 6);
      const term = buf.readUIntLE(need(6), 6);
      const ids = (): number[] => {
        const count = buf.readUInt32LE(need(4));
        if (count * 4 > end - at) throw new Error(`a membership of ${count} members runs past the record's length`);
        return Array.from({ length: count }, () => buf.readUInt32LE(need(4)));
      };
      const voters = ids();
      record = { kind, group, index, term, confState: { voters, learners: ids() } };
      break;
    }
    case undefined:
      throw new Error(`unknown record kind ${buf.readUInt8(start)}`);
  }
  if (at !== end) throw new Error(`${end - at} bytes left over after the record's fields`);
  return record;
}
