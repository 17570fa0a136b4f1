// Bytes on the wire, computed by hand from the protobuf encoding rules (tag = number << 3 | wire
// type; varints little-endian in 7-bit groups; negative int64 as ten bytes), so that a wrong field
// number or type fails here even if it were wrong in the fact sheet test too.

import { describe, expect, it } from "vitest";
import { loadEtcdApi } from "./load.js";

const api = loadEtcdApi();
const kv = api.KV.definition;

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

const b = (text: string): Buffer => Buffer.from(text);

describe("etcd messages encode as etcd's do", () => {
  it("encodes PutRequest{key: a, value: b} as 0a 01 61 12 01 62", () => {
    expect(hex(kv.Put.requestSerialize({ key: b("a"), value: b("b") }))).toBe("0a0161120162");
  });

  it("encodes every PutRequest field with its number", () => {
    const bytes = kv.Put.requestSerialize({
      key: b("a"),
      value: b("b"),
      lease: "1",
      prev_kv: true,
      ignore_value: true,
      ignore_lease: true,
    });
    expect(hex(bytes)).toBe("0a0161" + "120162" + "1801" + "2001" + "2801" + "3001");
  });

  it("keeps a 63-bit lease id exact both ways", () => {
    const leaseId = "7587862110034735136"; // above 2^53: a JS number would round it
    const bytes = kv.Put.requestSerialize({ key: b("a"), lease: leaseId });
    expect(hex(bytes)).toBe("0a0161" + "18" + "a0e090cab08ce0a669");
    expect(kv.Put.requestDeserialize(bytes).lease).toBe(leaseId);
  });

  it("encodes a negative revision as a ten-byte varint, as int64 (not sint64) must", () => {
    const bytes = kv.Range.requestSerialize({ key: b("a"), revision: "-1" });
    expect(hex(bytes)).toBe("0a0161" + "20" + "ffffffffffffffffff01");
    expect(kv.Range.requestDeserialize(bytes).revision).toBe("-1");
  });

  it("encodes a RangeResponse with a header and one KeyValue", () => {
    const bytes = kv.Range.responseSerialize({
      header: { cluster_id: "1", member_id: "2", revision: "3", raft_term: "4" },
      kvs: [{ key: b("k"), create_revision: "2", mod_revision: "3", version: "1", value: b("v") }],
      count: "1",
    });
    const header = "0a08" + "0801" + "1002" + "1803" + "2004";
    const keyValue = "120c" + "0a016b" + "1002" + "1803" + "2001" + "2a0176";
    expect(hex(bytes)).toBe(header + keyValue + "2001");

    const decoded = kv.Range.responseDeserialize(bytes);
    expect(decoded.header).toEqual({ cluster_id: "1", member_id: "2", revision: "3", raft_term: "4" });
    expect(decoded.kvs).toEqual([
      { key: b("k"), create_revision: "2", mod_revision: "3", version: "1", value: b("v"), lease: "0" },
    ]);
    expect(decoded.more).toBe(false);
    expect(decoded.count).toBe("1");
  });

  it("sends a field set to its default value, which Go leaves out; both decode alike", () => {
    // protobufjs writes every field present in the object, even at its default; etcd's Go encoder
    // skips defaults. Decoders read both the same, but leaving defaults out saves bytes.
    const bytes = kv.Range.responseSerialize({ kvs: [{ key: b("k"), lease: "0" }], more: false });
    expect(hex(bytes)).toBe("1205" + "0a016b" + "3000" + "1800");
    expect(kv.Range.responseDeserialize(bytes)).toEqual(kv.Range.responseDeserialize(Buffer.from("12030a016b", "hex")));
  });

  it("numbers Compare.range_end 64, a two-byte tag", () => {
    const bytes = kv.Txn.requestSerialize({ compare: [{ key: b("a"), range_end: b("b") }] });
    // TxnRequest.compare (1, length 7): Compare.key (3) then range_end (64 << 3 | 2 = 514 = 82 04).
    expect(hex(bytes)).toBe("0a07" + "1a0161" + "82040162");
  });

  it("carries a Txn op in its oneof member and names it on decoding", () => {
    const bytes = kv.Txn.requestSerialize({
      compare: [{ key: b("a"), target: 2, mod_revision: "5" }],
      success: [{ request_put: { key: b("a") } }],
    });
    // compare: target MOD (10 02), key (1a 01 61), mod_revision 5 (30 05); success: request_put (12 03 ...).
    expect(hex(bytes)).toBe("0a07" + "1002" + "1a0161" + "3005" + "1205" + "12030a0161");
    const decoded = kv.Txn.requestDeserialize(bytes);
    const compare = decoded.compare[0];
    expect(compare?.target_union).toBe("mod_revision");
    expect(compare?.target_union === "mod_revision" ? compare.mod_revision : undefined).toBe("5");
    const op = decoded.success[0];
    expect(op?.request).toBe("request_put");
    expect(op?.request === "request_put" ? op.request_put.key : undefined).toEqual(b("a"));
    expect(decoded.failure).toEqual([]);
  });

  it("numbers WatchResponse.events 11", () => {
    const bytes = api.Watch.definition.Watch.responseSerialize({
      watch_id: "1",
      events: [{ type: 1, kv: { key: b("a") } }],
    });
    // watch_id (10 01); events: 11 << 3 | 2 = 0x5a, an Event of type DELETE (08 01) and kv (12 03 ...).
    expect(hex(bytes)).toBe("1001" + "5a07" + "0801" + "12030a0161");
    const event = api.Watch.definition.Watch.responseDeserialize(bytes).events[0];
    expect(event?.type).toBe(1);
    expect(event?.prev_kv).toBeNull();
  });

  it("names the member of a WatchRequest's union", () => {
    const watch = api.Watch.definition.Watch;
    const bytes = watch.requestSerialize({ create_request: { key: b("a"), start_revision: "7" } });
    expect(hex(bytes)).toBe("0a05" + "0a0161" + "1807");
    const decoded = watch.requestDeserialize(bytes);
    expect(decoded.request_union).toBe("create_request");
    expect(watch.requestDeserialize(watch.requestSerialize({ progress_request: {} })).request_union).toBe(
      "progress_request",
    );
  });

  it("encodes the upper-case lease fields TTL and ID", () => {
    const lease = api.Lease.definition;
    expect(hex(lease.LeaseGrant.requestSerialize({ TTL: "10" }))).toBe("080a");
    expect(hex(lease.LeaseTimeToLive.responseSerialize({ ID: "3", TTL: "-1", grantedTTL: "10", keys: [b("k")] }))).toBe(
      "1003" + "18ffffffffffffffffff01" + "200a" + "2a016b",
    );
  });

  it("encodes lock and election messages", () => {
    expect(hex(api.Lock.definition.Lock.requestSerialize({ name: b("l"), lease: "5" }))).toBe("0a016c1005");
    const bytes = api.Election.definition.Proclaim.requestSerialize({
      leader: { name: b("e"), key: b("k"), rev: "9", lease: "5" },
      value: b("v"),
    });
    expect(hex(bytes)).toBe("0a0a" + "0a0165" + "12016b" + "1809" + "2005" + "120176");
  });

  it("encodes member ids as uint64 beyond 2^53", () => {
    const memberId = "18446744073709551615"; // 2^64 - 1
    const bytes = api.Cluster.definition.MemberRemove.requestSerialize({ ID: memberId });
    expect(hex(bytes)).toBe("08" + "ffffffffffffffffff01");
    expect(api.Cluster.definition.MemberRemove.requestDeserialize(bytes).ID).toBe(memberId);
  });

  it("decodes an empty message with every default present and sub-messages null", () => {
    expect(kv.Range.responseDeserialize(Buffer.alloc(0))).toEqual({ header: null, kvs: [], more: false, count: "0" });
    expect(kv.Range.requestDeserialize(Buffer.alloc(0))).toMatchObject({
      key: Buffer.alloc(0),
      limit: "0",
      sort_order: 0,
      serializable: false,
    });
  });

  it("passes an enum value it does not know through as a number", () => {
    // RangeRequest.sort_order (5) = 7: no such SortOrder.
    expect(kv.Range.requestDeserialize(Buffer.from("2807", "hex")).sort_order).toBe(7);
  });
});
