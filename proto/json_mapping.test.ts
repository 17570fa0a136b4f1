import { describe, expect, it } from "vitest";
import { JsonMappingError, jsonToProtobuf, jsonValues, loadEtcdJsonTypes, protobufToJson } from "./json_mapping.js";
import { loadEtcdApi } from "./load.js";

const types = loadEtcdJsonTypes();
const type = (name: string) => types.lookupType(name);
const api = loadEtcdApi();

/** The request object a gRPC handler would get for `json`, through proto-loader's deserializer. */
const asGrpcRequest = <M extends keyof typeof api.KV.definition>(method: M, json: unknown) =>
  api.KV.definition[method].requestDeserialize(Buffer.from(jsonToProtobuf(type(`etcdserverpb.${method === "Txn" ? "TxnRequest" : `${method}Request`}`), json)));

describe("JSON to protobuf, as etcd's gateway reads a body", () => {
  it("reads bytes as base64, 64-bit integers as numbers or strings, enums by name or number", () => {
    const request = asGrpcRequest("Range", { key: "Zm9v", range_end: "Zm9w", limit: "10", revision: 7, sort_order: "DESCEND", sort_target: 3, keys_only: true });
    expect(request).toMatchObject({ key: Buffer.from("foo"), range_end: Buffer.from("fop"), limit: "10", revision: "7", sort_order: 2, sort_target: 3, keys_only: true });
  });

  it("takes lowerCamelCase names as well as the .proto's, and ignores unknown fields and nulls", () => {
    const request = asGrpcRequest("Range", { key: "YQ==", rangeEnd: "AA==", countOnly: true, bogus: 1, limit: null });
    expect(request).toMatchObject({ key: Buffer.from("a"), range_end: Buffer.from([0]), count_only: true, limit: "0" });
  });

  it("reads base64 in either alphabet, padded or not", () => {
    expect(asGrpcRequest("Put", { key: "-_8=" }).key).toEqual(Buffer.from([0xfb, 0xff]));
    expect(asGrpcRequest("Put", { key: "+/8" }).key).toEqual(Buffer.from([0xfb, 0xff]));
  });

  it("reads nested messages and oneofs (a txn's compares and ops)", () => {
    const request = asGrpcRequest("Txn", {
      compare: [{ key: "Zm9v", result: "EQUAL", target: "VALUE", value: "YmFy" }],
      success: [{ request_put: { key: "Zm9v", value: "YmF6", prev_kv: true } }],
      failure: [{ requestRange: { key: "Zm9v" } }],
    });
    expect(request.compare[0]).toMatchObject({ key: Buffer.from("foo"), result: 0, target: 3, value: Buffer.from("bar"), target_union: "value" });
    expect(request.success[0]).toMatchObject({ request: "request_put", request_put: { key: Buffer.from("foo"), value: Buffer.from("baz"), prev_kv: true } });
    expect(request.failure[0]).toMatchObject({ request: "request_range", request_range: { key: Buffer.from("foo") } });
  });

  it("refuses what does not fit, naming the field and what it expects", () => {
    const refused = (json: unknown): string => {
      try {
        jsonToProtobuf(type("etcdserverpb.RangeRequest"), json);
      } catch (error) {
        expect(error).toBeInstanceOf(JsonMappingError);
        return (error as Error).message;
      }
      throw new Error("accepted");
    };
    expect(refused({ key: "not base64!" })).toMatch(/^RangeRequest\.key: expected base64/);
    expect(refused({ key: "Zm9vY" })).toMatch(/^RangeRequest\.key: expected base64/);
    expect(refused({ limit: "abc" })).toMatch(/^RangeRequest\.limit: expected an integer/);
    expect(refused({ limit: 1.5 })).toMatch(/^RangeRequest\.limit: expected an integer/);
    expect(refused({ limit: "9223372036854775808" })).toBe("RangeRequest.limit: 9223372036854775808 is out of range for int64");
    expect(refused({ sort_order: "SIDEWAYS" })).toBe('RangeRequest.sort_order: expected one of NONE, ASCEND, DESCEND (or its number), got "SIDEWAYS"');
    expect(refused({ keys_only: "yes" })).toMatch(/^RangeRequest\.keys_only: expected true or false/);
    expect(refused([1])).toMatch(/^RangeRequest: expected a JSON object/);
    expect(() => jsonToProtobuf(type("etcdserverpb.TxnRequest"), { compare: {} })).toThrow(/^TxnRequest\.compare: expected a JSON array/);
    expect(() => jsonToProtobuf(type("etcdserverpb.TxnRequest"), { success: [{ request_put: { key: 5 } }] })).toThrow(/^TxnRequest\.success\[0\]\.request_put\.key: expected base64/);
  });

  it("keeps the full range of unsigned 64-bit ids", () => {
    const bytes = jsonToProtobuf(type("etcdserverpb.MemberRemoveRequest"), { ID: "18446744073709551615" });
    expect(api.Cluster.definition.MemberRemove.requestDeserialize(Buffer.from(bytes)).ID).toBe("18446744073709551615");
  });
});

describe("protobuf to JSON, as etcd's gateway writes an answer", () => {
  const roundTrip = (name: string, message: Record<string, unknown>) => {
    const t = type(name);
    return protobufToJson(t, t.encode(t.fromObject(message)).finish());
  };

  it("writes the .proto's names, 64-bit integers as strings, bytes as base64, and leaves defaults out", () => {
    const json = roundTrip("etcdserverpb.RangeResponse", {
      header: { cluster_id: "14841639068965178418", member_id: "1", revision: "2", raft_term: "0" },
      kvs: [{ key: Buffer.from("foo"), create_revision: "2", mod_revision: "2", version: "1", value: Buffer.from("bar"), lease: "0" }],
      more: false,
      count: "1",
    });
    expect(json).toEqual({
      header: { cluster_id: "14841639068965178418", member_id: "1", revision: "2" },
      kvs: [{ key: "Zm9v", create_revision: "2", mod_revision: "2", version: "1", value: "YmFy" }],
      count: "1",
    });
  });

  it("writes enums by name, leaving out the default one, and a set empty message as {}", () => {
    const json = roundTrip("etcdserverpb.WatchResponse", {
      header: {},
      events: [{ type: 1, kv: { key: Buffer.from("k") } }, { type: 0, kv: { key: Buffer.from("k"), value: Buffer.from("v") } }],
    });
    expect(json).toEqual({ header: {}, events: [{ type: "DELETE", kv: { key: "aw==" } }, { kv: { key: "aw==", value: "dg==" } }] });
  });

  it("writes negative 64-bit integers with their sign", () => {
    expect(roundTrip("etcdserverpb.LeaseTimeToLiveResponse", { ID: "5", TTL: "-1" })).toEqual({ ID: "5", TTL: "-1" });
  });
});

describe("a body's JSON values, one after another", () => {
  it("splits values with or without whitespace between them, braces inside strings included", () => {
    expect(jsonValues('{"a":1} {"b":[1,2]}')).toEqual([{ a: 1 }, { b: [1, 2] }]);
    expect(jsonValues('{"a":1}{"b":2}')).toEqual([{ a: 1 }, { b: 2 }]);
    expect(jsonValues('{"a":"x\\"}{"} {"b":"]"}')).toEqual([{ a: 'x"}{' }, { b: "]" }]);
    expect(jsonValues("")).toEqual([]);
    expect(jsonValues(" \n ")).toEqual([]);
  });

  it("keeps an integer too long for a double as its decimal string, and leaves other numbers alone", () => {
    expect(jsonValues('{"ID":7587899332107575063,"keys":true}')).toEqual([{ ID: "7587899332107575063", keys: true }]);
    expect(jsonValues('{"x":-12345678901234567890,"y":1.5e3,"z":"9999999999999999999","n":42}')).toEqual([
      { x: "-12345678901234567890", y: 1500, z: "9999999999999999999", n: 42 },
    ]);
  });

  it("throws JSON's SyntaxError for a broken value", () => {
    expect(() => jsonValues("{bad")).toThrow(SyntaxError);
    expect(() => jsonValues('{"a":1} junk')).toThrow(SyntaxError);
    expect(() => jsonValues('{"a":"unterminated')).toThrow(SyntaxError);
  });
});
