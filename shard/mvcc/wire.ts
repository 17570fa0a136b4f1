// Byte-level reading and writing shared by the command, record and meta codecs: unsigned LEB128
// varints for JavaScript integers up to 2^53, zigzag for the signed ones (below 2^52), fixed 8-byte big-endian
// for int64 bigints, and length-prefixed bytes. Readers return views into their input (no copies)
// and throw MvccError INVALID_ARGUMENT on anything truncated or out of range, never a RangeError.

import { invalidArgument } from "./errors.js";

const TWO_32 = 2 ** 32;
/** Signed values travel zigzagged (doubled), so their magnitude must stay below 2^52. */
const SIGNED_ABS_LIMIT = 2 ** 52;

export class ByteWriter {
  private buf: Uint8Array;
  private at = 0;

  constructor(capacityBytes: number) {
    this.buf = Buffer.allocUnsafe(capacityBytes);
  }

  get length(): number {
    return this.at;
  }

  /**
   * The bytes written, as the writer's buffer or a view into it (the writer must not be reused). A
   * writer sized exactly returns its buffer as it is: a view would be one more object per encoding.
   */
  finish(): Uint8Array {
    return this.at === this.buf.length ? this.buf : this.buf.subarray(0, this.at);
  }

  u8(value: number): void {
    this.ensure(1);
    this.buf[this.at++] = value;
  }

  uvarint(value: number): void {
    if (!(value >= 0 && value <= Number.MAX_SAFE_INTEGER) || !Number.isInteger(value)) {
      throw invalidArgument(`Cannot encode ${String(value)}: expected an integer in [0, 2^53)`);
    }
    // Exactly sized writers (see finish) must not grow for room a short varint does not need.
    if (this.at + 8 > this.buf.length) this.ensure(uvarintBytes(value));
    const buf = this.buf;
    let at = this.at;
    if (value < 0x80000000) {
      while (value >= 0x80) {
        buf[at++] = (value & 0x7f) | 0x80;
        value >>>= 7;
      }
    } else {
      while (value >= 0x80) {
        buf[at++] = (value % 128) | 0x80;
        value = Math.floor(value / 128);
      }
    }
    buf[at++] = value;
    this.at = at;
  }

  svarint(value: number): void {
    if (!Number.isInteger(value) || Math.abs(value) >= SIGNED_ABS_LIMIT) {
      throw invalidArgument(`Cannot encode ${String(value)}: expected an integer of magnitude below 2^52`);
    }
    this.uvarint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  /** int64 or uint64 as 8 bytes big-endian two's complement (so that ids sort numerically when unsigned). */
  u64(value: bigint): void {
    const unsigned = BigInt.asUintN(64, value);
    this.u32be(Number(unsigned >> 32n));
    this.u32be(Number(unsigned & 0xffffffffn));
  }

  u32be(value: number): void {
    this.ensure(4);
    const buf = this.buf;
    buf[this.at] = value >>> 24;
    buf[this.at + 1] = (value >>> 16) & 0xff;
    buf[this.at + 2] = (value >>> 8) & 0xff;
    buf[this.at + 3] = value & 0xff;
    this.at += 4;
  }

  /** A varint length, then the bytes. */
  bytes(value: Uint8Array): void {
    this.uvarint(value.length);
    this.raw(value);
  }

  raw(value: Uint8Array): void {
    this.ensure(value.length);
    this.buf.set(value, this.at);
    this.at += value.length;
  }

  private ensure(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + bytes + 64));
    grown.set(this.buf.subarray(0, this.at));
    this.buf = grown;
  }
}

export class ByteReader {
  private at = 0;

  constructor(
    private readonly buf: Uint8Array,
    /** Names what is being read, for error messages ("command", "key record"...). */
    private readonly what: string,
  ) {}

  get offset(): number {
    return this.at;
  }

  get remaining(): number {
    return this.buf.length - this.at;
  }

  u8(): number {
    const value = this.buf[this.at];
    if (value === undefined) throw this.truncated();
    this.at++;
    return value;
  }

  uvarint(): number {
    const buf = this.buf;
    let at = this.at;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const byte = buf[at++];
      if (byte === undefined) throw this.truncated();
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (result > Number.MAX_SAFE_INTEGER) break;
        this.at = at;
        return result;
      }
      scale *= 128;
    }
    throw invalidArgument(`Cannot decode ${this.what}: varint at byte ${this.at} is over 2^53`);
  }

  svarint(): number {
    const zigzag = this.uvarint();
    return zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2;
  }

  u64(): bigint {
    const hi = this.u32be();
    const lo = this.u32be();
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  i64(): bigint {
    return BigInt.asIntN(64, this.u64());
  }

  u32be(): number {
    const buf = this.buf;
    const at = this.at;
    if (at + 4 > buf.length) throw this.truncated();
    this.at = at + 4;
    return (buf[at]! * 0x1000000 + ((buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!)) >>> 0;
  }

  bytes(): Uint8Array {
    const length = this.uvarint();
    return this.raw(length);
  }

  raw(length: number): Uint8Array {
    if (this.at + length > this.buf.length) throw this.truncated();
    const view = this.buf.subarray(this.at, this.at + length);
    this.at += length;
    return view;
  }

  rest(): Uint8Array {
    return this.raw(this.buf.length - this.at);
  }

  /** Every byte must have been read: trailing garbage is as wrong as a truncation. */
  end(): void {
    if (this.at !== this.buf.length) {
      throw invalidArgument(`Cannot decode ${this.what}: ${this.buf.length - this.at} unexpected bytes at byte ${this.at}`);
    }
  }

  private truncated() {
    return invalidArgument(`Cannot decode ${this.what}: truncated at byte ${this.at} of ${this.buf.length}`);
  }
}

/** How many bytes ByteWriter.uvarint takes for `value` (an integer in [0, 2^53)). */
export function uvarintBytes(value: number): number {
  let bytes = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    bytes++;
  }
  return bytes;
}

/** 8 bytes big-endian of a non-negative integer below 2^53: sorts numerically as bytes. */
export function writeU64be(target: Uint8Array, at: number, value: number): void {
  const hi = Math.floor(value / TWO_32);
  const lo = value >>> 0;
  target[at] = hi >>> 24;
  target[at + 1] = (hi >>> 16) & 0xff;
  target[at + 2] = (hi >>> 8) & 0xff;
  target[at + 3] = hi & 0xff;
  target[at + 4] = lo >>> 24;
  target[at + 5] = (lo >>> 16) & 0xff;
  target[at + 6] = (lo >>> 8) & 0xff;
  target[at + 7] = lo & 0xff;
}

export function readU64be(source: Uint8Array, at: number): number {
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 4; i++) hi = hi * 256 + (source[at + i] ?? 0);
  for (let i = 4; i < 8; i++) lo = lo * 256 + (source[at + i] ?? 0);
  return hi * TWO_32 + lo;
}
