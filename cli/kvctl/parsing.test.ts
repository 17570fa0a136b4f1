// The pure parts of kvctl checked on their own: escaping bytes for a terminal, etcdctl's txn language,
// and flag values. The end-to-end file (cli/kvctl.test.ts) covers the rest against real nodes.

import { describe, expect, test } from "vitest";
import { CompareResult, CompareTarget } from "../../proto/index.js";
import { parseConsistency, parseDurationMs, parseLeaseId, prefixEnd } from "./flag_values.js";
import { escapeBytes, jsonBytes } from "./output.js";
import { parseCompare, parseOperation, parseTxnText, tokenize } from "./txn_parse.js";

describe("escaping for output", () => {
  test("printable UTF-8 stays as it is, control bytes and invalid UTF-8 are escaped, a backslash is doubled", () => {
    expect(escapeBytes(Buffer.from("héllo wörld"))).toBe("héllo wörld");
    expect(escapeBytes(Buffer.from([0x61, 0x0a, 0x00, 0xff, 0x5c, 0x1b]))).toBe("a\\n\\x00\\xff\\\\\\x1b");
    expect(escapeBytes(Buffer.from([0xc3]))).toBe("\\xc3");
  });

  test("JSON carries text as a string and anything else as base64", () => {
    expect(jsonBytes("value", Buffer.from("x"))).toEqual({ value: "x" });
    expect(jsonBytes("value", Buffer.from([0xff]))).toEqual({ value_base64: "/w==" });
  });
});

describe("etcdctl's txn language", () => {
  test("words and quoted strings with Go's escapes", () => {
    expect(tokenize('put "a b" "x\\ty\\x00"').map(String)).toEqual(["put", "a b", "x\ty\0"]);
  });

  test("a compare names its target, key, operator and value", () => {
    expect(parseCompare('mod("k") > "3"')).toEqual({ key: Buffer.from("k"), result: CompareResult.GREATER, target: CompareTarget.MOD, mod_revision: "3" });
    expect(parseCompare('value("k") != "v"')).toMatchObject({ result: CompareResult.NOT_EQUAL, value: Buffer.from("v") });
    expect(() => parseCompare('size("k") = "1"')).toThrow(/Invalid compare/);
  });

  test("get and del take a prefix, put a lease", () => {
    expect(parseOperation("get a --prefix")).toEqual({ request_range: { key: Buffer.from("a"), range_end: Buffer.from("b") } });
    expect(parseOperation("put k v --lease=ff")).toEqual({ request_put: { key: Buffer.from("k"), value: Buffer.from("v"), lease: "255" } });
    expect(() => parseOperation("move a b")).toThrow(/expected get, put or del/);
  });

  test("stdin's blocks are split by blank lines; a leading blank line means no compares", () => {
    expect(parseTxnText('version("k") = "0"\n\nput k v\n\nget k\n')).toMatchObject({ compare: [{}], success: [{}], failure: [{}] });
    expect(parseTxnText("\nput k v\n")).toMatchObject({ compare: [], success: [{ request_put: {} }], failure: [] });
  });
});

describe("flag values", () => {
  test("durations with units; a bare number in the flag's unit", () => {
    expect(parseDurationMs("30s", "--ttl")).toBe(30_000);
    expect(parseDurationMs("1.5m", "--ttl")).toBe(90_000);
    expect(parseDurationMs("60", "--ttl")).toBe(60_000);
    expect(() => parseDurationMs("-1s", "--ttl")).toThrow(/Invalid --ttl/);
  });

  test("lease ids are hex, as etcdctl prints them", () => {
    expect(parseLeaseId("694d77aa9e38260f")).toBe(BigInt("0x694d77aa9e38260f").toString());
    expect(() => parseLeaseId("0")).toThrow(/Invalid lease id/);
    expect(() => parseLeaseId("ffffffffffffffff")).toThrow(/Invalid lease id/);
  });

  test("consistency: linearizable, serializable, or stale with a bound in ms", () => {
    expect(parseConsistency("stale=250")).toEqual({ kind: "stale", maxStalenessMs: 250 });
    expect(parseConsistency("stale=2s")).toEqual({ kind: "stale", maxStalenessMs: 2000 });
    expect(() => parseConsistency("eventual")).toThrow(/Invalid --consistency/);
  });

  test("a prefix's end raises its last byte below 0xff", () => {
    expect(prefixEnd(Buffer.from([0x61, 0xff]))).toEqual(Buffer.from([0x62]));
    expect(prefixEnd(Buffer.from([0xff]))).toEqual(Buffer.from([0]));
  });
});
