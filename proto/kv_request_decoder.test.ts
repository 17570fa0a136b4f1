// The hand-written RangeRequest and PutRequest decoder against proto-loader's deserializer: the same
// objects for whatever a conforming encoder writes (protobufjs reflection's bytes, and bytes written
// field by field: any order, repeated fields, unknown fields of every wire type), and an error, never
// a crash, for bytes that are no such message.

import fc from "fast-check";
import protobuf from "protobufjs/minimal.js";
import { describe, expect, it } from "vitest";
import { decodePutRequest, decodeRangeRequest } from "./kv_request_decoder.js";
import { MalformedMessage } from "./malformed_message.js";
import { EGROUP, fieldTag as tag, I32, I64, LEN, SGROUP, VARINT } from "./wire_format.js";
import { b, binary, bytes, enumNumber, int64, putRequestObject, rangeRequestObject, reference, reflection } from "./test_kv_messages.js";

type Writer = protobuf.Writer;

const finish = (w: Writer): Buffer => Buffer.from(w.finish());

const rangeReflection = reflection("etcdserverpb.RangeRequest");
const putReflection = reflection("etcdserverpb.PutRequest");

/** A field of each wire type that RangeRequest and PutRequest do not have, as a newer client might send. */
function unknownFields(w: Writer): Writer {
  w.uint32(tag(90, VARINT)).uint64("18446744073709551615");
  w.uint32(tag(91, I64)).fixed64(7);
  w.uint32(tag(92, LEN)).bytes(b("from the future"));
  w.uint32(tag(93, I32)).fixed32(9);
  w.uint32(tag(94, SGROUP)).uint32(tag(1, VARINT)).uint32(5).uint32(tag(2, LEN)).bytes(b("x")).uint32(tag(94, EGROUP));
  return w;
}

const rangeDefaults = {
  key: Buffer.alloc(0),
  range_end: Buffer.alloc(0),
  limit: "0",
  revision: "0",
  sort_order: 0,
  sort_target: 0,
  serializable: false,
  keys_only: false,
  count_only: false,
  min_mod_revision: "0",
  max_mod_revision: "0",
  min_create_revision: "0",
  max_create_revision: "0",
};

describe("the RangeRequest decoder beside proto-loader's", () => {
  it("reads no bytes as every field at its default, as proto-loader does", () => {
    expect(decodeRangeRequest(Buffer.alloc(0))).toStrictEqual(rangeDefaults);
    expect(decodeRangeRequest(Buffer.alloc(0))).toStrictEqual(reference.Range.requestDeserialize(Buffer.alloc(0)));
  });

  it("reads what protobufjs reflection writes as proto-loader reads it, for random requests (quick check)", () => {
    fc.assert(
      fc.property(rangeRequestObject, (request) => {
        const encoded = rangeReflection.serialize(request);
        expect(decodeRangeRequest(encoded)).toStrictEqual(reference.Range.requestDeserialize(encoded));
      }),
      { numRuns: 1_000 },
    );
  });

  it("reads fields backwards, repeated, and between unknown fields of every wire type", () => {
    const w = new protobuf.BufferWriter();
    unknownFields(w);
    w.uint32(tag(13, VARINT)).int64("-9223372036854775808");
    w.uint32(tag(12, VARINT)).int64("9223372036854775807");
    w.uint32(tag(11, VARINT)).int64("9007199254740993");
    w.uint32(tag(10, VARINT)).int64("-1");
    w.uint32(tag(9, VARINT)).bool(true);
    unknownFields(w);
    w.uint32(tag(8, VARINT)).uint32(2);
    w.uint32(tag(7, VARINT)).bool(true);
    w.uint32(tag(6, VARINT)).int32(-1);
    w.uint32(tag(5, VARINT)).int32(7);
    w.uint32(tag(4, VARINT)).int64("4294967296");
    w.uint32(tag(3, VARINT)).int64("1");
    w.uint32(tag(3, VARINT)).int64("10");
    w.uint32(tag(2, LEN)).bytes(Buffer.alloc(0));
    w.uint32(tag(1, LEN)).bytes(b("first"));
    w.uint32(tag(1, LEN)).bytes(binary);
    unknownFields(w);
    const encoded = finish(w);
    const expected = {
      key: binary,
      range_end: Buffer.alloc(0),
      limit: "10",
      revision: "4294967296",
      sort_order: 7,
      sort_target: -1,
      serializable: true,
      keys_only: true,
      count_only: true,
      min_mod_revision: "-1",
      max_mod_revision: "9007199254740993",
      min_create_revision: "9223372036854775807",
      max_create_revision: "-9223372036854775808",
    };
    expect(decodeRangeRequest(encoded)).toStrictEqual(expected);
    expect(reference.Range.requestDeserialize(encoded)).toStrictEqual(expected);
  });

  it("skips a known field number sent with another wire type, as protobuf-go does (protobufjs would misread it)", () => {
    const w = new protobuf.BufferWriter();
    w.uint32(tag(1, VARINT)).uint32(5).uint32(tag(4, LEN)).bytes(b("7")).uint32(tag(1, LEN)).bytes(b("a")).uint32(tag(5, I32)).fixed32(2);
    expect(decodeRangeRequest(finish(w))).toStrictEqual({ ...rangeDefaults, key: b("a") });
  });

  it("reads bytes fields as Buffers that view the received message, as proto-loader's do", () => {
    const encoded = rangeReflection.serialize({ key: b("abc"), range_end: b("abd") });
    const decoded = decodeRangeRequest(encoded);
    expect(Buffer.isBuffer(decoded.key)).toBe(true);
    expect(decoded.key.buffer).toBe(encoded.buffer);
    expect(decodeRangeRequest(new Uint8Array(encoded) as Buffer).key).toStrictEqual(b("abc"));
  });

  it("reads a 10-byte varint whose last byte carries more than the 64th bit as protobufjs does: the extra bits dropped", () => {
    const encoded = Buffer.from([tag(4, VARINT), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    expect(decodeRangeRequest(encoded).revision).toBe("-1");
    expect(reference.Range.requestDeserialize(encoded).revision).toBe("-1");
  });

  it("reads any stream of known and unknown fields, in any order and repeated, as proto-loader does (quick check)", () => {
    fc.assert(
      fc.property(fc.array(rangeField, { maxLength: 30 }), (fields) => {
        const w = new protobuf.BufferWriter();
        for (const field of fields) writeField(w, field);
        const encoded = finish(w);
        expect(decodeRangeRequest(encoded)).toStrictEqual(reference.Range.requestDeserialize(encoded));
      }),
      { numRuns: 1_000 },
    );
  });
});

describe("the PutRequest decoder beside proto-loader's", () => {
  it("reads no bytes as every field at its default", () => {
    const expected = { key: Buffer.alloc(0), value: Buffer.alloc(0), lease: "0", prev_kv: false, ignore_value: false, ignore_lease: false };
    expect(decodePutRequest(Buffer.alloc(0))).toStrictEqual(expected);
    expect(reference.Put.requestDeserialize(Buffer.alloc(0))).toStrictEqual(expected);
  });

  it("keeps a 63-bit lease id and a negative one exact", () => {
    for (const lease of ["7587862110034735136", "-7587862110034735136", "9223372036854775807"]) {
      const encoded = putReflection.serialize({ key: b("a"), value: binary, lease });
      expect(decodePutRequest(encoded)).toStrictEqual({ key: b("a"), value: binary, lease, prev_kv: false, ignore_value: false, ignore_lease: false });
    }
  });

  it("reads what protobufjs reflection writes as proto-loader reads it, for random requests (quick check)", () => {
    fc.assert(
      fc.property(putRequestObject, (request) => {
        const encoded = putReflection.serialize(request);
        expect(decodePutRequest(encoded)).toStrictEqual(reference.Put.requestDeserialize(encoded));
      }),
      { numRuns: 1_000 },
    );
  });

  it("reads any stream of known and unknown fields as proto-loader does (quick check)", () => {
    fc.assert(
      fc.property(fc.array(putField, { maxLength: 20 }), (fields) => {
        const w = new protobuf.BufferWriter();
        for (const field of fields) writeField(w, field);
        const encoded = finish(w);
        expect(decodePutRequest(encoded)).toStrictEqual(reference.Put.requestDeserialize(encoded));
      }),
      { numRuns: 1_000 },
    );
  });
});

describe("reading bytes that are no request", () => {
  const valid = rangeReflection.serialize({ key: b("key"), range_end: b("kez"), limit: "9007199254740993", sort_order: 2, serializable: true });

  it("throws MalformedMessage saying what and why, where proto-loader's decoder throws too", () => {
    const cases: Readonly<Record<string, Buffer>> = {
      "cut short in a bytes field": valid.subarray(0, 4),
      "cut short in a varint": Buffer.from([tag(3, VARINT), 0x80, 0x80]),
      "a length past the end": Buffer.from([tag(1, LEN), 9, 1, 2]),
      "a varint over 10 bytes": Buffer.from([tag(4, VARINT), ...Array<number>(10).fill(0xff), 0x01]),
      "wire type 6": Buffer.from([tag(20, 6), 0]),
      "wire type 7": Buffer.from([tag(20, 7), 0]),
      "a lone end of group": Buffer.from([tag(20, EGROUP)]),
      "a group never ended": Buffer.from([tag(20, SGROUP), tag(1, VARINT), 1]),
      "a fixed64 cut short": Buffer.from([tag(20, I64), 1, 2, 3]),
    };
    for (const [name, encoded] of Object.entries(cases)) {
      expect(() => reference.Range.requestDeserialize(encoded), name).toThrow();
      expect(() => decodeRangeRequest(encoded), name).toThrow(MalformedMessage);
      expect(() => decodeRangeRequest(encoded), name).toThrow(new RegExp(`^Cannot read a RangeRequest of ${encoded.length} bytes: `));
      expect(() => decodePutRequest(encoded), name).toThrow(new RegExp(`^Cannot read a PutRequest of ${encoded.length} bytes: `));
    }
  });

  it("never throws anything but MalformedMessage, whatever the bytes: random ones, valid ones cut short or with bytes changed (quick check)", () => {
    const readOrRefuse = (encoded: Buffer): void => {
      for (const decode of [decodeRangeRequest, decodePutRequest]) {
        try {
          decode(encoded);
        } catch (error) {
          expect(error).toBeInstanceOf(MalformedMessage);
        }
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (random) => readOrRefuse(Buffer.from(random))), { numRuns: 2_000 });
    fc.assert(
      fc.property(rangeRequestObject, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(), (request, changes, cut) => {
        const encoded = Buffer.from(rangeReflection.serialize(request));
        if (encoded.length === 0) return;
        for (const [at, value] of changes) encoded[at % encoded.length] = value;
        readOrRefuse(encoded);
        readOrRefuse(encoded.subarray(0, cut % encoded.length));
      }),
      { numRuns: 1_000 },
    );
  });
});

// ---- a field at a time ----------------------------------------------------------------------------

type FieldKind = "bytes" | "int64" | "enum" | "bool";

type Field =
  | { readonly kind: "bytes"; readonly number: number; readonly value: Buffer }
  | { readonly kind: "int64"; readonly number: number; readonly value: string }
  | { readonly kind: "enum"; readonly number: number; readonly value: number }
  /** A bool as any varint: a decoder takes non-zero as true. */
  | { readonly kind: "bool"; readonly number: number; readonly value: number }
  | { readonly kind: "unknown"; readonly number: number; readonly wireType: 0 | 1 | 2 | 3 | 5; readonly value: string };

const RANGE_FIELDS: Readonly<Record<number, FieldKind>> = {
  1: "bytes", 2: "bytes", 3: "int64", 4: "int64", 5: "enum", 6: "enum", 7: "bool", 8: "bool", 9: "bool",
  10: "int64", 11: "int64", 12: "int64", 13: "int64",
};
const PUT_FIELDS: Readonly<Record<number, FieldKind>> = { 1: "bytes", 2: "bytes", 3: "int64", 4: "bool", 5: "bool", 6: "bool" };

function knownField(number: number, kind: FieldKind): fc.Arbitrary<Field> {
  switch (kind) {
    case "bytes":
      return bytes.map((value) => ({ kind, number, value }));
    case "int64":
      return int64.map((value) => ({ kind, number, value }));
    case "enum":
      return enumNumber.map((value) => ({ kind, number, value }));
    case "bool":
      return fc.oneof(fc.constantFrom(0, 1), fc.nat()).map((value) => ({ kind, number, value }));
  }
}

function fieldOf(fields: Readonly<Record<number, FieldKind>>): fc.Arbitrary<Field> {
  const known = Object.entries(fields).map(([number, kind]) => knownField(Number(number), kind));
  const unknown = fc.record({
    kind: fc.constant("unknown" as const),
    number: fc.oneof(fc.integer({ min: Object.keys(fields).length + 1, max: 40 }), fc.integer({ min: 41, max: 2 ** 29 - 1 })),
    wireType: fc.constantFrom(0 as const, 1 as const, 2 as const, 3 as const, 5 as const),
    value: int64,
  });
  return fc.oneof({ arbitrary: fc.oneof(...known), weight: 3 }, unknown);
}

const rangeField = fieldOf(RANGE_FIELDS);
const putField = fieldOf(PUT_FIELDS);

function writeField(w: Writer, field: Field): void {
  switch (field.kind) {
    case "bytes":
      w.uint32(tag(field.number, LEN)).bytes(field.value);
      return;
    case "int64":
      w.uint32(tag(field.number, VARINT)).int64(field.value);
      return;
    case "enum":
      w.uint32(tag(field.number, VARINT)).int32(field.value);
      return;
    case "bool":
      w.uint32(tag(field.number, VARINT)).uint32(field.value);
      return;
    case "unknown":
      writeUnknown(w, field.number, field.wireType, field.value);
      return;
  }
}

function writeUnknown(w: Writer, number: number, wireType: 0 | 1 | 2 | 3 | 5, value: string): void {
  w.uint32(tag(number, wireType));
  switch (wireType) {
    case VARINT:
      w.int64(value);
      return;
    case I64:
      w.sfixed64(value);
      return;
    case LEN:
      w.bytes(b(value));
      return;
    case SGROUP:
      w.uint32(tag(1, VARINT)).int64(value).uint32(tag(2, LEN)).bytes(b(value)).uint32(tag(number, EGROUP));
      return;
    case I32:
      w.fixed32(Number(BigInt.asUintN(32, BigInt(value))));
      return;
  }
}
