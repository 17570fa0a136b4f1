// The protobuf wire format for the codecs written by hand (the peer transport's RaftBatch, etcd's
// KV Range and Put): tags, and reading fields on top of protobufjs's Reader with sub-messages kept
// within their parent's bounds, unknown fields skipped, uint64 read as exact JS numbers. Whatever the
// bytes, a read either succeeds or throws MalformedBytes or Reader's RangeError (they end early);
// each codec says, in its own error, which message and why.

import protobuf from "protobufjs/minimal.js";

/** Wire types (the low 3 bits of a tag). */
export const VARINT = 0;
export const I64 = 1;
export const LEN = 2;
export const SGROUP = 3;
export const EGROUP = 4;
export const I32 = 5;

/** A field's tag: its number and its wire type, as written before its value. */
export function fieldTag(field: number, wireType: number): number {
  return (field << 3) | wireType;
}

export type Reader = protobuf.Reader;

/** Bytes that are not a protobuf encoding of what was expected; the reason, without context. */
export class MalformedBytes extends Error {
  override readonly name = "MalformedBytes";
}

export function readerOf(bytes: Uint8Array): Reader {
  return protobuf.Reader.create(bytes);
}

/** Reads a sub-message's length and returns where it ends, which must be within its parent. */
export function subMessageEnd(reader: Reader, parentEnd: number): number {
  const length = reader.uint32();
  const end = reader.pos + length;
  if (end > parentEnd) throw new MalformedBytes(`a field of ${length} bytes at offset ${reader.pos} runs past the end of its message at offset ${parentEnd}`);
  return end;
}

/** After a sub-message's fields: its last field must end where the sub-message does. */
export function expectEnd(reader: Reader, end: number): void {
  if (reader.pos !== end) throw new MalformedBytes(`a field runs past the end of its message at offset ${end}, to offset ${reader.pos}`);
}

/** Skips a field this version does not know (a newer peer's), or a known field with an unexpected wire type. */
export function skipUnknown(reader: Reader, tag: number): void {
  const wireType = tag & 7;
  if (tag >>> 3 === 0) throw new MalformedBytes(`field number 0 at offset ${reader.pos}`);
  try {
    reader.skipType(wireType);
  } catch (error) {
    if (error instanceof RangeError) throw error;
    throw new MalformedBytes(`cannot skip field ${tag >>> 3} of wire type ${wireType} at offset ${reader.pos}: ${String(error)}`);
  }
}

/**
 * A uint64 varint as a JS number, exact: Raft terms, indexes and ids stay below 2^53. Read here
 * rather than with Reader.uint64, which builds a Long (the `long` package is installed) per field.
 */
export function readUint53(reader: Reader): number {
  const { buf, len } = reader;
  const start = reader.pos;
  let pos = start;
  let value = 0;
  let scale = 1;
  // A varint holds 7 bits a byte: 10 bytes carry all 64.
  for (let i = 0; i < 10; i++) {
    if (pos >= len) throw new RangeError(`a varint at offset ${start} is cut off by the end of the bytes`);
    const byte = buf[pos++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      reader.pos = pos;
      if (value > Number.MAX_SAFE_INTEGER) throw new MalformedBytes(`a uint64 at offset ${start} is over 2^53 - 1, where Raft terms, indexes and ids never go`);
      return value;
    }
    scale *= 0x80;
  }
  throw new MalformedBytes(`a varint at offset ${start} is longer than 10 bytes`);
}

/** A repeated uint64, packed (LEN, this call) or one value per field (read with readUint53). */
export function readPackedUint53(reader: Reader, parentEnd: number, into: number[]): void {
  const end = subMessageEnd(reader, parentEnd);
  while (reader.pos < end) into.push(readUint53(reader));
  expectEnd(reader, end);
}

/**
 * A bytes field, copied: entries live on in the log cache, and a view into the received message
 * would keep all of it in memory.
 */
export function readBytesCopy(reader: Reader, parentEnd: number): Uint8Array {
  const end = subMessageEnd(reader, parentEnd);
  const start = reader.pos;
  reader.pos = end;
  return new Uint8Array(reader.buf.subarray(start, end));
}

/** A string field; invalid UTF-8 reads as U+FFFD, as with proto-loader's decoder (Node's own UTF-8). */
export function readString(reader: Reader, parentEnd: number): string {
  const end = subMessageEnd(reader, parentEnd);
  const start = reader.pos;
  reader.pos = end;
  const { buf } = reader;
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString("utf8");
}
