import { describe, expect, test } from "vitest";
import { validateCommand } from "./validate.js";
import { MVCC_DEFAULTS } from "./limits.js";
import type { CommandBody } from "./command.js";
import type { Command } from "./command.js";
import type { RequestOp, TxnRequest } from "./requests.js";
import { ETCD_ERRORS, MvccError } from "./errors.js";
import { bytes } from "./fixtures.js";

const header = { nowMs: 1000, requestId: 1n };
const check = (body: CommandBody) => () => validateCommand({ header, ...body } as Command, MVCC_DEFAULTS);
const codeOf = (body: CommandBody): string | undefined => {
  try {
    check(body)();
    return undefined;
  } catch (error) {
    return (error as MvccError).code;
  }
};
const put = (key: string, extra = {}): RequestOp => ({ put: { key: bytes(key), value: bytes("v"), ...extra } });
const del = (key: string, rangeEnd?: string): RequestOp => ({
  deleteRange: rangeEnd === undefined ? { key: bytes(key) } : { key: bytes(key), rangeEnd: bytes(rangeEnd) },
});
const txn = (success: RequestOp[], failure: RequestOp[] = []): CommandBody => ({ op: "txn", txn: { compare: [], success, failure } });

describe("validateCommand", () => {
  test("a plain put passes", () => {
    expect(check({ op: "put", put: { key: bytes("a"), value: bytes("b") } })).not.toThrow();
  });

  test("an empty key is refused with etcd's message", () => {
    expect(check({ op: "put", put: { key: new Uint8Array(0), value: bytes("b") } })).toThrow(ETCD_ERRORS.emptyKey);
    expect(check({ op: "deleteRange", deleteRange: { key: new Uint8Array(0) } })).toThrow(ETCD_ERRORS.emptyKey);
    expect(check(txn([{ range: { key: new Uint8Array(0) } }]))).toThrow(ETCD_ERRORS.emptyKey);
  });

  test("a key over keyBytesMax is refused, quoting its size and the limit", () => {
    const key = new Uint8Array(4097).fill(0x61);
    expect(check({ op: "put", put: { key, value: bytes("b") } })).toThrow(/key is 4097 bytes, over the 4096-byte limit \(keyBytesMax, set by the node.s --max-key-bytes\)/);
  });

  test("a value over valueBytesMax is refused, quoting its size and the limit", () => {
    const value = new Uint8Array(MVCC_DEFAULTS.valueBytesMax + 1);
    expect(check({ op: "put", put: { key: bytes("k"), value } })).toThrow(/Cannot put key "k": value is 1048577 bytes, over the 1048576-byte limit/);
  });

  test("ignoreValue with a value and ignoreLease with a lease are refused as etcd does", () => {
    expect(check({ op: "put", put: { key: bytes("k"), value: bytes("v"), ignoreValue: true } })).toThrow(ETCD_ERRORS.valueProvided);
    expect(check({ op: "put", put: { key: bytes("k"), value: bytes(""), ignoreLease: true, lease: 5n } })).toThrow(ETCD_ERRORS.leaseProvided);
    expect(check({ op: "put", put: { key: bytes("k"), value: bytes(""), ignoreValue: true, ignoreLease: true } })).not.toThrow();
  });

  test("a txn with more than txnOpsMax ops in a branch is refused", () => {
    const ops = Array.from({ length: 129 }, (_, i) => put(`k${i}`));
    expect(check(txn(ops))).toThrow(ETCD_ERRORS.tooManyOps);
    expect(check(txn(ops.slice(0, 128)))).not.toThrow();
  });

  test("the same key put twice in one branch is a duplicate", () => {
    expect(check(txn([put("a"), put("a")]))).toThrow(ETCD_ERRORS.duplicateKey);
  });

  test("a put inside a deleted range of the same branch is a duplicate", () => {
    expect(check(txn([del("a", "c"), put("b")]))).toThrow(ETCD_ERRORS.duplicateKey);
    expect(check(txn([del("a", "c"), put("c")]))).not.toThrow();
    expect(check(txn([del("a", "\0"), put("zzz")]))).toThrow(ETCD_ERRORS.duplicateKey);
    expect(check(txn([del("a"), put("a")]))).toThrow(ETCD_ERRORS.duplicateKey);
  });

  test("the then and else branches of a nested txn may put the same key, but not what the outer level puts", () => {
    const nested: TxnRequest = { compare: [], success: [put("x")], failure: [put("x")] };
    expect(check(txn([{ txn: nested }]))).not.toThrow();
    expect(check(txn([{ txn: nested }, put("x")]))).toThrow(ETCD_ERRORS.duplicateKey);
    expect(check(txn([{ txn: { compare: [], success: [put("y")], failure: [] } }, del("x", "z")]))).toThrow(ETCD_ERRORS.duplicateKey);
  });

  test("the success and failure branches are checked apart", () => {
    expect(check(txn([put("a")], [put("a")]))).not.toThrow();
  });

  test("a lease grant needs a non-zero id and a positive TTL no larger than etcd's maximum", () => {
    expect(codeOf({ op: "leaseGrant", id: 0n, ttlSeconds: 10 })).toBe("INVALID_ARGUMENT");
    expect(codeOf({ op: "leaseGrant", id: 1n, ttlSeconds: 0 })).toBe("INVALID_ARGUMENT");
    expect(check({ op: "leaseGrant", id: 1n, ttlSeconds: -5 })).toThrow(/ttlSeconds is -5, it must be positive/);
    expect(check({ op: "leaseGrant", id: 1n, ttlSeconds: 9_000_000_001 })).toThrow(ETCD_ERRORS.leaseTtlTooLarge);
    expect(codeOf({ op: "leaseGrant", id: 1n, ttlSeconds: 9_000_000_001 })).toBe("OUT_OF_RANGE");
    expect(codeOf({ op: "leaseGrant", id: 1n, ttlSeconds: 1 })).toBeUndefined();
  });

  test("a compare whose value does not fit its target is refused with the types named", () => {
    const body: CommandBody = {
      op: "txn",
      txn: { compare: [{ key: bytes("k"), target: "version", result: "equal", value: bytes("1") }], success: [], failure: [] },
    };
    expect(check(body)).toThrow('Cannot compare version of key "k": the value is a bytes, expected a number');
  });

  test("a non-positive ttlMs is refused", () => {
    expect(check({ op: "put", put: { key: bytes("k"), value: bytes("v"), ttlMs: 0 } })).toThrow(/ttlMs is 0/);
  });

  test("a negative clock or a request id beyond uint64 is refused", () => {
    expect(() => validateCommand({ header: { nowMs: -1, requestId: 0n }, op: "compact", revision: 1 }, MVCC_DEFAULTS)).toThrow(MvccError);
    expect(() => validateCommand({ header: { nowMs: 1, requestId: 1n << 64n }, op: "compact", revision: 1 }, MVCC_DEFAULTS)).toThrow(/uint64/);
  });
});
