// Reading one segment at recovery: the records it holds, and how it ends. A segment that ends in a
// torn write (a record cut short, or sectors that never reached the disk and read as zeros) is the
// trace of a crash during an unsynced write, and only the last segment may have one; anything else
// that fails to parse is corruption, and the node must stop (etcd's WAL makes the same distinction).

import { type FrameProblem, readRecord, type WalRecord } from "./record.js";

export const SEGMENT_MAGIC = Buffer.from("SKVWAL\x00\x01", "latin1");
const SECTOR_BYTES = 512;

export interface ScannedRecord {
  readonly record: WalRecord;
  readonly offset: number;
  readonly bytes: number;
}

export type SegmentEnd =
  /** The records end at `offset`: the file's end, or where its preallocated zeros begin. */
  | { readonly kind: "clean"; readonly offset: number }
  /** The bytes from `offset` on are a torn write: recovery cuts them off (keeping a copy). */
  | { readonly kind: "torn"; readonly offset: number; readonly reason: string }
  | { readonly kind: "corrupt"; readonly offset: number; readonly reason: string };

export function scanSegment(buf: Buffer, recordBytesMax: number, isLast: boolean): { records: ScannedRecord[]; end: SegmentEnd } {
  const records: ScannedRecord[] = [];
  const header = buf.subarray(0, SEGMENT_MAGIC.length);
  if (!header.equals(SEGMENT_MAGIC)) {
    // A segment created just before a crash may hold only part of its header, or zeros.
    const partial = header.length < SEGMENT_MAGIC.length && SEGMENT_MAGIC.subarray(0, header.length).equals(header);
    if (isLast && (partial || isZero(buf, 0, buf.length))) return { records, end: { kind: "torn", offset: 0, reason: "the segment's header was never fully written" } };
    return { records, end: { kind: "corrupt", offset: 0, reason: "the segment does not start with the write-ahead log's header" } };
  }
  let offset = SEGMENT_MAGIC.length;
  while (offset < buf.length) {
    // Zeros from a record boundary to the end are a preallocated segment's unused space (etcd's WAL
    // reads them the same way). No record starts with a zero length and a zero checksum that match.
    if (isZero(buf, offset, buf.length)) return { records, end: { kind: "clean", offset } };
    const result = readRecord(buf, offset, recordBytesMax);
    if (result.ok) {
      records.push({ record: result.record, offset, bytes: result.bytes });
      offset += result.bytes;
      continue;
    }
    if (isLast && looksTorn(buf, offset, result.problem)) return { records, end: { kind: "torn", offset, reason: result.reason } };
    return { records, end: { kind: "corrupt", offset, reason: result.reason } };
  }
  return { records, end: { kind: "clean", offset } };
}

/**
 * A crash during a write leaves the file short, or with sectors that read as zeros. A record that
 * fails its checksum with neither sign is a flipped bit or an overwrite: corruption.
 */
function looksTorn(buf: Buffer, offset: number, problem: FrameProblem): boolean {
  if (problem === "shortHeader" || problem === "pastEnd") return true;
  if (isZero(buf, offset, buf.length)) return true;
  // A header whose length is impossible (no record is that short) says nothing of where the record
  // ends: look for zeroed sectors up to the end of the file.
  const payloadBytes = buf.readUInt32LE(offset);
  const known = (problem === "checksum" || problem === "malformed") && payloadBytes >= 10;
  const span = known ? Math.min(buf.length, offset + 9 + payloadBytes) : buf.length;
  // A torn write is the log's last: after it the file ends, or holds only a preallocated segment's
  // zeros. A bad record with written records after it is damage, never a tear.
  if (!isZero(buf, span, buf.length)) return false;
  // A part of the record that reads as zeros never reached the disk. The record is cut at sector
  // boundaries (etcd's isTornEntry): a chunk may be partial at either end of the record.
  for (let from = offset; from < span; ) {
    const to = Math.min(span, (Math.floor(from / SECTOR_BYTES) + 1) * SECTOR_BYTES);
    if (isZero(buf, from, to)) return true;
    from = to;
  }
  // A write cut short inside a sector leaves the record's end as zeros.
  return known && buf[span - 1] === 0;
}

export function isZero(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] !== 0) return false;
  return true;
}
