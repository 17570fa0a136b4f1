// The KV codec the node serves (proto/kv_server_definition.ts) on the KV handlers' real answers: a
// store, the handlers, etcd_convert.ts's shapes. Each request goes in as a client writes it
// (proto-loader), is read by the codec, answered by KvService, and the answer must be the bytes
// proto-loader writes for it, and read back by proto-loader as the handler meant it.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kvServerDefinition, loadEtcdApi, type Writable } from "../proto/index.js";
import type * as t from "../proto/index.js";
import type { Store } from "../shard/store.js";
import { headerToWire, putResponseToWire, rangeResponseToWire } from "./etcd_convert.js";
import { KvService } from "./kv_service.js";
import { LocalShardAccess } from "./shard_access.js";
import type { ShardMap } from "./shard_map.js";
import { openLeadingStore } from "./test_fixtures.js";

const MEMBER_ID = 0xfedc_ba98_7654_3210n;
const CLUSTER_ID = 0x8e4f_11aa_0c3d_9b27n;
/** Above 2^53, where a JS number would round it. */
const LEASE_ID = 2n ** 62n + 5n;

const api = loadEtcdApi();
const reference = api.KV.definition;
const served = kvServerDefinition(api.KV);

const b = (s: string): Buffer => Buffer.from(s);
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

let store: Store;
let map: ShardMap;
let access: LocalShardAccess;
let kv: KvService;

beforeAll(async () => {
  ({ store, map } = await openLeadingStore(1));
  access = new LocalShardAccess(store, map, MEMBER_ID, CLUSTER_ID);
  kv = new KvService(access);
  const granted = await access.propose(map.shards[0]!.id, { op: "leaseGrant", id: LEASE_ID, ttlSeconds: 600 });
  if (!granted.ok) throw granted.error;
});

afterAll(async () => {
  await store.close();
});

/** What proto-loader reads back from a response the handler returned: bytes as Buffers, every field present. */
function asRead(response: Writable<t.KeyValue>): t.KeyValue {
  return {
    key: Buffer.from(response.key ?? new Uint8Array(0)),
    create_revision: response.create_revision ?? "0",
    mod_revision: response.mod_revision ?? "0",
    version: response.version ?? "0",
    value: Buffer.from(response.value ?? new Uint8Array(0)),
    lease: response.lease ?? "0",
  };
}

function headerRead(header: Writable<t.ResponseHeader> | null | undefined): t.ResponseHeader | null {
  if (header == null) return null;
  return { cluster_id: header.cluster_id ?? "0", member_id: header.member_id ?? "0", revision: header.revision ?? "0", raft_term: header.raft_term ?? "0" };
}

/** A Range as a client sends it, through the served codec and KvService, answered as proto-loader would. */
async function rangeThrough(request: Writable<t.RangeRequest>): Promise<Writable<t.RangeResponse>> {
  const wire = served.Range.requestDeserialize(reference.Range.requestSerialize(request));
  const response = await kv.range(wire);
  expectSameRange(response);
  return response;
}

async function putThrough(request: Writable<t.PutRequest>): Promise<Writable<t.PutResponse>> {
  const wire = served.Put.requestDeserialize(reference.Put.requestSerialize(request));
  const response = await kv.put(wire);
  expectSamePut(response);
  return response;
}

function expectSameRange(response: Writable<t.RangeResponse>): void {
  const bytes = served.Range.responseSerialize(response);
  expect(hex(bytes)).toBe(hex(reference.Range.responseSerialize(response)));
  expect(reference.Range.responseDeserialize(bytes)).toStrictEqual({
    header: headerRead(response.header),
    kvs: (response.kvs ?? []).map(asRead),
    more: response.more ?? false,
    count: response.count ?? "0",
  });
}

function expectSamePut(response: Writable<t.PutResponse>): void {
  const bytes = served.Put.responseSerialize(response);
  expect(hex(bytes)).toBe(hex(reference.Put.responseSerialize(response)));
  expect(reference.Put.responseDeserialize(bytes)).toStrictEqual({
    header: headerRead(response.header),
    prev_kv: response.prev_kv == null ? null : asRead(response.prev_kv),
  });
}

describe("the KV codec on the handlers' answers from a real store", () => {
  it("answers puts with and without the previous key-value, a lease id past 2^53 and binary keys and values", async () => {
    const first = await putThrough({ key: b("codec/a"), value: b("one") });
    expect(first.prev_kv).toBeNull();
    const second = await putThrough({ key: b("codec/a"), value: Buffer.alloc(256, 7), lease: String(LEASE_ID), prev_kv: true });
    expect(second.prev_kv).toMatchObject({ value: b("one"), version: "1" });
    await putThrough({ key: Buffer.from([0, 255, 1, 254]), value: Buffer.alloc(0), prev_kv: true });
    await putThrough({ key: b("codec/a"), value: b("three"), ignore_lease: true, prev_kv: true });
  });

  it("answers ranges of no key, one key, many keys, a limit, and counts and keys only", async () => {
    await Promise.all(Array.from({ length: 120 }, (_, i) => putThrough({ key: b(`codec/many/${String(i).padStart(3, "0")}`), value: b(`v${i}`) })));
    const none = await rangeThrough({ key: b("codec/absent") });
    expect(none.kvs).toEqual([]);
    const one = await rangeThrough({ key: b("codec/a"), serializable: true });
    expect(one.kvs).toHaveLength(1);
    expect(one.kvs?.[0]?.lease).toBe(String(LEASE_ID));
    const many = await rangeThrough({ key: b("codec/many/"), range_end: b("codec/many0") });
    expect(many.kvs).toHaveLength(120);
    const limited = await rangeThrough({ key: b("codec/many/"), range_end: b("codec/many0"), limit: "7", sort_order: 2, sort_target: 4 });
    expect(limited).toMatchObject({ more: true, count: "120" });
    await rangeThrough({ key: b("codec/"), range_end: b("codec0"), count_only: true });
    await rangeThrough({ key: Buffer.from([0]), range_end: Buffer.from([0]), keys_only: true });
    await rangeThrough({ key: b("codec/a"), revision: "-1" });
  });

  it("writes etcd_convert.ts's shapes with revisions and terms near 2^53 and ids of 64 bits as proto-loader does", async () => {
    const { kvs } = await access.range(map.shards[0]!.id, { key: b("codec/a") }, "serializable");
    const header = headerToWire({ clusterId: 2n ** 64n - 1n, memberId: 2n ** 63n, revision: Number.MAX_SAFE_INTEGER, raftTerm: 2 ** 53 - 2 });
    expectSameRange(rangeResponseToWire({ kvs, more: false, count: Number.MAX_SAFE_INTEGER }, header));
    expectSameRange(rangeResponseToWire({ kvs: [], more: false, count: 0 }, headerToWire({ clusterId: 0n, memberId: 0n, revision: 0, raftTerm: 0 })));
    expectSamePut(putResponseToWire({ prevKv: kvs[0]! }, header));
    expectSamePut(putResponseToWire({}, header));
  });
});
