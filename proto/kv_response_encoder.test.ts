// The hand-written RangeResponse and PutResponse encoder against proto-loader's serializer: the same
// bytes for every shape a handler may return, and the same refusals. etcd_convert.ts's shapes from
// real store results are checked in router/kv_codec.test.ts.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type * as t from "./etcd_types.js";
import { encodePutResponse, encodeRangeResponse } from "./kv_response_encoder.js";
import { attempt, b, binary, ODD_INT64_INPUTS, putResponseShape, rangeResponseShape, reference, UINT64_MAX } from "./test_kv_messages.js";
import type { Writable } from "./wire_types.js";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

/** Both encoders on one shape: equal bytes, or both refuse it. */
function expectSameRange(response: Writable<t.RangeResponse>): void {
  const ours = attempt(() => encodeRangeResponse(response));
  const theirs = attempt(() => reference.Range.responseSerialize(response));
  expect(ours.ok, `ours ${ours.ok ? "wrote" : "refused"} what proto-loader ${theirs.ok ? "wrote" : "refused"}`).toBe(theirs.ok);
  if (ours.ok && theirs.ok) expect(hex(ours.bytes)).toBe(hex(theirs.bytes));
}

function expectSamePut(response: Writable<t.PutResponse>): void {
  const ours = attempt(() => encodePutResponse(response));
  const theirs = attempt(() => reference.Put.responseSerialize(response));
  expect(ours.ok, `ours ${ours.ok ? "wrote" : "refused"} what proto-loader ${theirs.ok ? "wrote" : "refused"}`).toBe(theirs.ok);
  if (ours.ok && theirs.ok) expect(hex(ours.bytes)).toBe(hex(theirs.bytes));
}

/** For shapes the Writable types keep out but fromObject takes (numbers, bigints, odd strings). */
const looseRange = (response: object): Writable<t.RangeResponse> => response as Writable<t.RangeResponse>;
const loosePut = (response: object): Writable<t.PutResponse> => response as Writable<t.PutResponse>;

const header = { cluster_id: "7587862110034735136", member_id: String(UINT64_MAX), revision: "9007199254740993", raft_term: "4" };
const kv = (key: Uint8Array, revision: string): Writable<t.KeyValue> => ({
  key,
  create_revision: revision,
  mod_revision: revision,
  version: "1",
  value: b(`value of ${revision}`),
  lease: "7587862110034735136",
});

describe("the RangeResponse encoder beside proto-loader's", () => {
  it("writes the bytes of etcd_encoding.test.ts's hand-computed example", () => {
    const response = {
      header: { cluster_id: "1", member_id: "2", revision: "3", raft_term: "4" },
      kvs: [{ key: b("k"), create_revision: "2", mod_revision: "3", version: "1", value: b("v") }],
      count: "1",
    };
    expect(hex(encodeRangeResponse(response))).toBe("0a08" + "0801" + "1002" + "1803" + "2004" + "120c" + "0a016b" + "1002" + "1803" + "2001" + "2a0176" + "2001");
  });

  it("writes a field the object holds even at its default, as protobufjs does, and leaves out only what is missing or null", () => {
    const atDefaults = { header: { cluster_id: "0", member_id: "0", revision: "0", raft_term: "0" }, kvs: [{ key: b(""), value: b(""), lease: "0" }], more: false, count: "0" };
    expect(hex(encodeRangeResponse(atDefaults))).toBe("0a08080010001800200012060a002a003000" + "1800" + "2000");
    expectSameRange(atDefaults);
    expect(hex(encodeRangeResponse({}))).toBe("");
    expect(hex(encodeRangeResponse(looseRange({ header: null, kvs: null, more: undefined, count: null })))).toBe("");
    expect(hex(encodeRangeResponse({ header: {}, kvs: [] }))).toBe("0a00");
  });

  it("writes no kvs, one, and many, with binary and empty keys", () => {
    expectSameRange({ header, kvs: [], more: false, count: "0" });
    expectSameRange({ header, kvs: [kv(binary, "1")], more: false, count: "1" });
    const many = Array.from({ length: 300 }, (_, i) => kv(b(`key/${i}`), String(2 ** 53 + i)));
    expectSameRange({ header, kvs: [...many, kv(b(""), "2")], more: true, count: "100000" });
  });

  it("writes 64-bit ids, revisions past 2^53 and negative int64s exactly", () => {
    for (const revision of ["9007199254740993", "9223372036854775807", "-1", "-9223372036854775808", "4294967296", "4294967295"]) {
      expectSameRange({ header: { ...header, revision }, kvs: [kv(b("k"), revision)], count: revision });
    }
    for (const id of ["18446744073709551615", "9223372036854775808", "1", "0"]) expectSameRange({ header: { cluster_id: id, member_id: id, raft_term: id } });
  });

  it("writes int64s given as numbers, bigints or odd strings as long.js reads them, and refuses those it refuses", () => {
    for (const value of ODD_INT64_INPUTS) {
      expectSameRange(looseRange({ count: value, header: { cluster_id: value, revision: value } }));
    }
    expect(() => encodeRangeResponse(looseRange({ count: "" }))).toThrow(/empty string/);
  });

  it("refuses what proto-loader's serializer refuses: no object, an array, kvs not an array or holding null", () => {
    for (const response of [null, undefined, 5, "x", [], { kvs: "x" }, { kvs: [null] }, { kvs: [5] }, { header: 5 }, { header: "x" }]) {
      expect(() => reference.Range.responseSerialize(looseRange(response as object))).toThrow();
      expect(() => encodeRangeResponse(looseRange(response as object))).toThrow(TypeError);
    }
  });

  it("writes what proto-loader writes for random shapes, and proto-loader reads it back alike (quick check)", () => {
    fc.assert(
      fc.property(rangeResponseShape, (response) => {
        expectSameRange(response);
        const ours = attempt(() => encodeRangeResponse(response));
        if (ours.ok) expect(reference.Range.responseDeserialize(ours.bytes)).toStrictEqual(reference.Range.responseDeserialize(reference.Range.responseSerialize(response)));
      }),
      { numRuns: 1_000 },
    );
  });
});

describe("the PutResponse encoder beside proto-loader's", () => {
  it("writes a header with and without the previous key-value", () => {
    expectSamePut({ header, prev_kv: null });
    expectSamePut({ header });
    expectSamePut({ header, prev_kv: kv(b("k"), "9007199254740993") });
    expectSamePut({ header, prev_kv: {} });
    expect(hex(encodePutResponse({ header: { revision: "1" }, prev_kv: {} }))).toBe("0a021801" + "1200");
  });

  it("refuses what proto-loader's serializer refuses", () => {
    for (const response of [null, 5, [], { prev_kv: 5 }, { header: "x" }]) {
      expect(() => reference.Put.responseSerialize(loosePut(response as object))).toThrow();
      expect(() => encodePutResponse(loosePut(response as object))).toThrow(TypeError);
    }
  });

  it("writes what proto-loader writes for random shapes (quick check)", () => {
    fc.assert(fc.property(putResponseShape, expectSamePut), { numRuns: 1_000 });
  });
});
