import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { COMMAND_FORMAT_VERSION, decodeCommand, encodeCommand, restampCommand } from "./command_codec.js";
import type { Command } from "./command.js";
import type { Compare, PutRequest, RangeRequest, RequestOp, TxnRequest } from "./requests.js";
import { MvccError } from "./errors.js";
import { bytes } from "./fixtures.js";

const key = fc.uint8Array({ minLength: 0, maxLength: 24 });
const revision = fc.integer({ min: -(2 ** 52) + 1, max: 2 ** 52 - 1 });
const int64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const flag = fc.constant(true);

const put: fc.Arbitrary<PutRequest> = fc.record(
  { key, value: fc.uint8Array({ maxLength: 64 }), lease: int64, prevKv: flag, ignoreValue: flag, ignoreLease: flag, ttlMs: revision },
  { requiredKeys: ["key", "value"] },
);
const range: fc.Arbitrary<RangeRequest> = fc.record(
  {
    key,
    rangeEnd: key,
    limit: revision,
    revision,
    sortOrder: fc.constantFrom("none", "ascend", "descend"),
    sortTarget: fc.constantFrom("key", "version", "create", "mod", "value"),
    keysOnly: flag,
    countOnly: flag,
    minModRevision: revision,
    maxModRevision: revision,
    minCreateRevision: revision,
    maxCreateRevision: revision,
  },
  { requiredKeys: ["key"] },
);
const compare: fc.Arbitrary<Compare> = fc.record(
  {
    key,
    rangeEnd: key,
    target: fc.constantFrom("version", "create", "mod", "value", "lease"),
    result: fc.constantFrom("equal", "notEqual", "less", "greater"),
    value: fc.oneof(revision, int64, fc.uint8Array({ maxLength: 8 })),
  },
  { requiredKeys: ["key", "target", "result", "value"] },
);
const { txn } = fc.letrec<{ txn: TxnRequest; op: RequestOp }>((tie) => ({
  txn: fc.record({
    compare: fc.array(compare, { maxLength: 3 }),
    success: fc.array(tie("op"), { maxLength: 3 }),
    failure: fc.array(tie("op"), { maxLength: 3 }),
  }),
  op: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.record({ range }),
    fc.record({ put }),
    fc.record({ deleteRange: fc.record({ key, rangeEnd: key, prevKv: flag }, { requiredKeys: ["key"] }) }),
    fc.record({ txn: tie("txn") }),
  ),
}));
const header = fc.record({
  nowMs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  requestId: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
});
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ header, op: fc.constant("put" as const), put }),
  fc.record({
    header,
    op: fc.constant("deleteRange" as const),
    deleteRange: fc.record({ key, rangeEnd: key, prevKv: flag }, { requiredKeys: ["key"] }),
  }),
  fc.record({ header, op: fc.constant("txn" as const), txn }),
  fc.record({ header, op: fc.constant("compact" as const), revision }),
  fc.record({ header, op: fc.constant("leaseGrant" as const), id: int64, ttlSeconds: revision }),
  fc.record({ header, op: fc.constant("leaseRevoke" as const), id: int64 }),
  fc.record({ header, op: fc.constant("expireKeys" as const), keys: fc.array(key, { maxLength: 4 }) }),
  fc.record({ header, op: fc.constant("purgeTombstones" as const), beforeRevision: revision }),
);

/** Bytes compare by content whatever their class (decode hands out Buffer views). */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return `bytes:${Buffer.from(value).toString("hex")}`;
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

describe("command codec", () => {
  test("every command survives an encode/decode round trip", () => {
    fc.assert(
      fc.property(command, (original) => {
        expect(plain(decodeCommand(encodeCommand(original)))).toEqual(plain(original));
      }),
      { numRuns: 2000 },
    );
  });

  test("any truncation of a valid command is refused as INVALID_ARGUMENT", () => {
    fc.assert(
      fc.property(command, fc.nat(), (original, cut) => {
        const data = encodeCommand(original);
        const truncated = data.subarray(0, cut % data.length);
        expect(() => decodeCommand(truncated)).toThrow(MvccError);
      }),
    );
  });

  test("random bytes decode to a command or an INVALID_ARGUMENT MvccError, nothing else", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (garbage) => {
        const data = Uint8Array.of(COMMAND_FORMAT_VERSION, ...garbage);
        try {
          decodeCommand(data);
        } catch (error) {
          expect(error).toBeInstanceOf(MvccError);
          expect((error as MvccError).code).toBe("INVALID_ARGUMENT");
        }
      }),
      { numRuns: 5000 },
    );
  });

  test("trailing bytes after a valid command are refused", () => {
    const data = encodeCommand({ header: { nowMs: 1, requestId: 2n }, op: "compact", revision: 3 });
    expect(() => decodeCommand(Uint8Array.of(...data, 0))).toThrow(/1 unexpected bytes/);
  });

  test("another format version is refused with a message naming both versions", () => {
    const data = encodeCommand({ header: { nowMs: 1, requestId: 2n }, op: "compact", revision: 3 });
    data[0] = 9;
    expect(() => decodeCommand(data)).toThrow("Cannot decode command: format version 9, this build reads 1");
  });

  test("a txn nested deeper than the decoder allows is refused, not a stack overflow", () => {
    let txn: TxnRequest = { compare: [], success: [], failure: [] };
    for (let i = 0; i < 40; i++) txn = { compare: [], success: [{ txn }], failure: [] };
    const data = encodeCommand({ header: { nowMs: 0, requestId: 0n }, op: "txn", txn });
    expect(() => decodeCommand(data)).toThrow(/nested deeper/);
  });

  test("a put costs about 16 bytes over its key and value", () => {
    const data = encodeCommand({
      header: { nowMs: 1_700_000_000_000, requestId: 12345n },
      op: "put",
      put: { key: bytes("some/key"), value: new Uint8Array(240) },
    });
    expect(data.length).toBeLessThanOrEqual(8 + 240 + 20);
  });

  test("a non-integer number cannot be encoded", () => {
    expect(() => encodeCommand({ header: { nowMs: 1.5, requestId: 0n }, op: "compact", revision: 1 })).toThrow(MvccError);
    expect(() => encodeCommand({ header: { nowMs: 1, requestId: 0n }, op: "compact", revision: Number.NaN })).toThrow(MvccError);
  });
});

describe("restampCommand", () => {
  test("replaces only the header's nowMs, whatever the sizes of the old and new varints", () => {
    const commands: Command[] = [
      { header: { nowMs: 5, requestId: 7n }, op: "put", put: { key: bytes("k"), value: bytes("v"), ttlMs: 30_000 } },
      { header: { nowMs: 1_764_000_000_000, requestId: 1n << 63n }, op: "leaseGrant", id: 42n, ttlSeconds: 10 },
      { header: { nowMs: 200, requestId: 3n }, op: "deleteRange", deleteRange: { key: bytes("a"), rangeEnd: bytes("b") } },
    ];
    for (const command of commands) {
      for (const nowMs of [0, 127, 128, 1_764_000_000_000, Number.MAX_SAFE_INTEGER]) {
        const restamped = restampCommand(encodeCommand(command), nowMs);
        expect(Buffer.from(restamped)).toEqual(Buffer.from(encodeCommand({ ...command, header: { ...command.header, nowMs } })));
        expect(decodeCommand(restamped).header.nowMs).toBe(nowMs);
      }
    }
  });

  test("returns bytes that are not a command of this format as they are, for apply to refuse", () => {
    const foreign = [new Uint8Array(0), Uint8Array.of(COMMAND_FORMAT_VERSION + 1, 1, 5), Uint8Array.of(COMMAND_FORMAT_VERSION, 1, 0x80, 0x80)];
    for (const data of foreign) expect(restampCommand(data, 1_000)).toBe(data);
  });
});
