// int64 and uint64 fields as decimal strings, read and written exactly as proto-loader does with our
// options (longs: String, through long.js): a varint's 64 bits become the signed decimal of
// Long.toString; a value to write becomes the bits long.js's Long.fromValue gives it. The common
// values (revisions, counts, small ids) take a path with no Long; anything else takes long.js's own,
// so that odd inputs (a negative number for a uint64, "1e3", a bigint) encode as they always did.

import protobuf from "protobufjs/minimal.js";
import type { Int64 } from "./wire_types.js";

type Reader = protobuf.Reader;
type Writer = protobuf.Writer;

/** What an object to encode may hold in an int64 or uint64 field, as proto-loader's fromObject takes it. */
export type Int64Input = string | number | bigint;

const TWO_POW_32 = 2 ** 32;
/** 2^53 / 2^32: a high word below this, with any low word, is a safe JS integer. */
const HIGH_WORD_SAFE_MAX = 2 ** 21;
/** Any decimal of at most 15 digits is below 2^53, a safe JS integer. */
const SAFE_DECIMAL_DIGITS_MAX = 15;
/** 2^64 has 20 digits: up to here the fast paths take a decimal (mod 2^64, as long.js does). */
const DECIMAL_DIGITS_MAX = 20;

/** long.js's conversion, which protobufjs types only as a constructor. */
interface LongLibrary {
  fromValue(value: unknown, unsigned: boolean): protobuf.Long;
}

function isLongLibrary(value: unknown): value is LongLibrary {
  return typeof value === "function" && "fromValue" in value && typeof value.fromValue === "function";
}

const long: LongLibrary = findLongLibrary();

function findLongLibrary(): LongLibrary {
  const found: unknown = protobuf.util.Long;
  // Without long.js proto-loader would round 64-bit values through JS numbers; nothing here may.
  if (!isLongLibrary(found)) throw new Error("Cannot encode int64 fields exactly: protobufjs found no long.js (the `long` package); reinstall dependencies");
  return found;
}

/** Reads an int64 varint as the signed decimal of its 64 bits. */
export function readInt64(reader: Reader): Int64 {
  const { buf, len } = reader;
  const start = reader.pos;
  let pos = start;
  let lo = 0;
  let byte = 0;
  // Bytes 1 to 4 fill bits 0-27 of the low word: a revision or a count ends here.
  for (let shift = 0; shift < 28; shift += 7) {
    if (pos >= len) throw cutOff(start);
    byte = buf[pos++]!;
    lo |= (byte & 0x7f) << shift;
    if (byte < 0x80) {
      reader.pos = pos;
      return String(lo);
    }
  }
  // Byte 5 gives 4 bits to the low word and 3 to the high one; bytes 6 to 10 fill the high word from
  // bit 3, and of byte 10 only the lowest bit fits (protobufjs drops the rest too).
  if (pos >= len) throw cutOff(start);
  byte = buf[pos++]!;
  lo = (lo | ((byte & 0x7f) << 28)) >>> 0;
  let hi = (byte & 0x7f) >> 4;
  for (let shift = 3; byte >= 0x80; shift += 7) {
    if (shift > 31) throw new RangeError(`a varint at offset ${start} is longer than 10 bytes`);
    if (pos >= len) throw cutOff(start);
    byte = buf[pos++]!;
    hi = (hi | ((byte & 0x7f) << shift)) >>> 0;
  }
  reader.pos = pos;
  return int64Decimal(lo, hi);
}

function cutOff(start: number): RangeError {
  return new RangeError(`a varint at offset ${start} is cut off by the end of the message`);
}

/** The signed decimal of a 64-bit two's complement value given as two unsigned 32-bit words. */
function int64Decimal(lo: number, hi: number): Int64 {
  if (hi < HIGH_WORD_SAFE_MAX) return String(hi * TWO_POW_32 + lo);
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
}

/** Writes an int64 or uint64 varint (the same bits either way; `unsigned` matters only to long.js's conversion). */
export function writeInt64(w: Writer, value: Int64Input, unsigned: boolean): void {
  if (typeof value === "string") {
    const length = value.length;
    if (length > 0 && length <= DECIMAL_DIGITS_MAX && isDecimal(value)) {
      if (length <= SAFE_DECIMAL_DIGITS_MAX) writeSafeInteger(w, Number(value));
      else writeWideDecimal(w, value);
      return;
    }
  } else if (typeof value === "number" && Number.isSafeInteger(value) && (value >= 0 || !unsigned)) {
    writeSafeInteger(w, value);
    return;
  }
  w.uint64(long.fromValue(value, unsigned));
}

/** Below 2^32 the varint is uint32's, which protobufjs writes without building its LongBits. */
function writeSafeInteger(w: Writer, value: number): void {
  if (value >= 0 && value < TWO_POW_32) w.uint32(value);
  else w.int64(value);
}

/**
 * 16 to 20 digits (a 64-bit id, such as etcd's member and cluster ids), taken mod 2^64 as long.js
 * does with a longer value: digit by digit over four 16-bit limbs, each product exact in a double.
 */
function writeWideDecimal(w: Writer, text: string): void {
  let l0 = 0;
  let l1 = 0;
  let l2 = 0;
  let l3 = 0;
  for (let i = 0; i < text.length; i++) {
    let carry = l0 * 10 + (text.charCodeAt(i) - 48);
    l0 = carry & 0xffff;
    carry = l1 * 10 + (carry >>> 16);
    l1 = carry & 0xffff;
    carry = l2 * 10 + (carry >>> 16);
    l2 = carry & 0xffff;
    l3 = (l3 * 10 + (carry >>> 16)) & 0xffff;
  }
  w.uint64({ low: (l1 << 16) | l0, high: (l3 << 16) | l2, unsigned: true });
}

/** Digits only: long.js's own path reads anything else (a sign, "1e3", " 5"), as proto-loader did. */
function isDecimal(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return false;
  }
  return true;
}
