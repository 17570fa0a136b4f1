// int64 and uint64 as decimal strings both ways, against long.js through protobufjs, which is what
// proto-loader's toObject and fromObject use with longs: String.

import fc from "fast-check";
import protobuf from "protobufjs/minimal.js";
import { describe, expect, it } from "vitest";
import { readInt64, writeInt64 } from "./int64_decimal.js";
import { ODD_INT64_INPUTS, UINT64_MAX } from "./test_kv_messages.js";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

/** How protobufjs reads an int64 varint: a Long, whose toString is proto-loader's decimal. */
function referenceRead(bytes: Uint8Array): string {
  return String(protobuf.Reader.create(bytes).int64());
}

interface LongLibrary {
  fromValue(value: unknown, unsigned: boolean): protobuf.Long;
}

function isLongLibrary(value: unknown): value is LongLibrary {
  return typeof value === "function" && "fromValue" in value && typeof value.fromValue === "function";
}

/** The varint proto-loader writes for an int64 or uint64 field set to `value`: fromObject's conversion, then encode's. */
function referenceWrite(value: string | number | bigint, unsigned: boolean): string {
  const long: unknown = protobuf.util.Long;
  if (!isLongLibrary(long)) throw new Error("protobufjs found no long.js");
  return hex(new protobuf.BufferWriter().uint64(long.fromValue(value, unsigned)).finish());
}

function write(value: string | number | bigint, unsigned: boolean): string {
  const w = new protobuf.BufferWriter();
  writeInt64(w, value, unsigned);
  return hex(w.finish());
}

function read(bytes: Uint8Array): string {
  return readInt64(protobuf.Reader.create(bytes));
}

const anyBits = fc.bigInt({ min: 0n, max: UINT64_MAX });

describe("int64 as a decimal string", () => {
  it("reads any 64 bits as the signed decimal protobufjs's Long gives (quick check)", () => {
    fc.assert(
      fc.property(anyBits, (bits) => {
        const encoded = new protobuf.BufferWriter().uint64(bits.toString()).finish();
        expect(read(encoded)).toBe(referenceRead(encoded));
        expect(read(encoded)).toBe(BigInt.asIntN(64, bits).toString());
      }),
      { numRuns: 2_000 },
    );
  });

  it("reads the words' edges exactly: 2^28, 2^32, 2^53 and 2^63, each side", () => {
    for (const value of [0n, 2n ** 28n - 1n, 2n ** 28n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n, UINT64_MAX]) {
      const encoded = new protobuf.BufferWriter().uint64(value.toString()).finish();
      expect(read(encoded)).toBe(BigInt.asIntN(64, value).toString());
    }
  });

  it("refuses a varint cut off by the end, or longer than 10 bytes, with a RangeError", () => {
    expect(() => read(new Uint8Array([0xff, 0xff]))).toThrow(/cut off/);
    expect(() => read(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toThrow(RangeError);
    expect(() => read(new Uint8Array([...Array<number>(10).fill(0x80), 0]))).toThrow(/longer than 10 bytes/);
  });

  it("writes any int64 or uint64 decimal as long.js converts it, signed or not (quick check)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: UINT64_MAX }), fc.boolean(), (value, unsigned) => {
        expect(write(value.toString(), unsigned)).toBe(referenceWrite(value.toString(), unsigned));
      }),
      { numRuns: 2_000 },
    );
  });

  it("writes decimals longer than 64 bits mod 2^64, as long.js does", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 25n }), fc.boolean(), (value, unsigned) => {
        expect(write(value.toString(), unsigned)).toBe(referenceWrite(value.toString(), unsigned));
      }),
      { numRuns: 1_000 },
    );
  });

  it("writes numbers, bigints and odd strings as long.js converts them, and refuses what it refuses", () => {
    const inputs = [...ODD_INT64_INPUTS, 0, 1, 2 ** 32, 2 ** 53 - 1, -(2 ** 53) + 1, 4.2e18, -4.2e18, 1e300];
    for (const value of inputs) {
      for (const unsigned of [false, true]) {
        let expected: string | undefined;
        try {
          expected = referenceWrite(value, unsigned);
        } catch {
          expect(() => write(value, unsigned), `${String(value)} (${unsigned ? "uint64" : "int64"})`).toThrow();
          continue;
        }
        expect(write(value, unsigned), `${String(value)} (${unsigned ? "uint64" : "int64"})`).toBe(expected);
      }
    }
  });

  it("reads back what it writes (quick check)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (value) => {
        const w = new protobuf.BufferWriter();
        writeInt64(w, value.toString(), false);
        expect(read(w.finish())).toBe(value.toString());
      }),
      { numRuns: 1_000 },
    );
  });
});
