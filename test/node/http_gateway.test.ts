// etcd's JSON gateway and plain HTTP on a node's client port, checked against etcd 3.4 itself
// (Debian's etcd-server, as CI installs it): the same requests go to both, one after the other, and
// their answers must match once what differs by nature (ids, revisions, terms) is masked.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "../../router/test_fixtures.js";
import { type BesideEtcd, startBesideEtcd } from "../support/beside_etcd.js";

let both: BesideEtcd;
let shardkvUrl: string;
let etcdUrl: string;

beforeAll(async () => {
  both = await startBesideEtcd("gateway");
  shardkvUrl = `http://${both.shardkvEndpoint}`;
  etcdUrl = `http://${both.etcdEndpoint}`;
}, 60_000);

afterAll(async () => {
  await both?.stop();
});

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

async function post(url: string, path: string, body: string, method = "POST"): Promise<Answer> {
  const response = await fetch(`${url}${path}`, method === "GET" ? {} : { method, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // a plain-text answer (404, 405) stays text
  }
  return { status: response.status, body: parsed };
}

/** A streaming answer read line by line (one JSON value each), until closed. */
function openStream(url: string, path: string, body: string): { lines(count: number): Promise<unknown[]>; close(): void } {
  const controller = new AbortController();
  const received: unknown[] = [];
  let buffered = "";
  let waiting: (() => void) | undefined;
  let ended = false;
  void (async () => {
    const response = await fetch(`${url}${path}`, { method: "POST", body, signal: controller.signal });
    const decoder = new TextDecoder();
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      for (let end = buffered.indexOf("\n"); end >= 0; end = buffered.indexOf("\n")) {
        received.push(JSON.parse(buffered.slice(0, end)));
        buffered = buffered.slice(end + 1);
      }
      waiting?.();
    }
  })()
    .catch(() => undefined)
    .finally(() => {
      ended = true;
      waiting?.();
    });
  return {
    // Woken by each chunk that arrives, and by the end of the stream; bounded by one deadline.
    async lines(count) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${path}: ${received.length} of ${count} lines after 10 s: ${JSON.stringify(received)}`)), 10_000);
      });
      try {
        while (received.length < count) {
          if (ended) throw new Error(`${path}: the stream ended after ${received.length} of ${count} lines: ${JSON.stringify(received)}`);
          await Promise.race([new Promise<void>((resolve) => (waiting = resolve)), late]);
        }
      } finally {
        clearTimeout(timer);
      }
      return received.splice(0, count);
    },
    close: () => controller.abort(),
  };
}

/** Ids, revisions, terms and TTLs left counting down differ by nature; what they are is masked. */
const MASKED = new Set(["cluster_id", "member_id", "revision", "raft_term", "create_revision", "mod_revision", "TTL"]);

function masked(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => masked(item));
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (key !== "hint") out[key] = MASKED.has(key) ? "<n>" : masked(field);
  }
  return out;
}

/** Each request in turn to etcd and to shardkv; both start empty. */
const SCRIPT: readonly { readonly what: string; readonly path: string; readonly body: string; readonly method?: string; readonly messageMayDiffer?: boolean }[] = [
  { what: "a put", path: "/v3/kv/put", body: '{"key":"Zm9v","value":"YmFy"}' },
  { what: "a point read", path: "/v3/kv/range", body: '{"key":"Zm9v"}' },
  { what: "a read of a missing key", path: "/v3/kv/range", body: '{"key":"bm9uZQ=="}' },
  { what: "a put without a key", path: "/v3/kv/put", body: '{"value":"YmFy"}' },
  { what: "a read at a future revision", path: "/v3/kv/range", body: '{"key":"Zm9v","revision":100000}' },
  { what: "a revoke of a missing lease", path: "/v3/lease/revoke", body: '{"ID":123}' },
  { what: "a lease grant with an id", path: "/v3/lease/grant", body: '{"TTL":60,"ID":777}' },
  { what: "the lease list", path: "/v3/lease/leases", body: "{}" },
  { what: "the lease list at its older path", path: "/v3/kv/lease/leases", body: "{}" },
  { what: "a lease's time to live", path: "/v3/lease/timetolive", body: '{"ID":"777","keys":true}' },
  { what: "a put under the lease", path: "/v3/kv/put", body: '{"key":"bGVhc2Vk","value":"eA==","lease":"777"}' },
  { what: "a user that does not exist", path: "/v3/auth/user/get", body: '{"name":"x"}' },
  { what: "every key, newest first, one", path: "/v3/kv/range", body: '{"key":"AA==","range_end":"AA==","sort_order":"DESCEND","sort_target":"KEY","limit":1}' },
  { what: "every key, camelCase names", path: "/v3/kv/range", body: '{"key":"AA==","rangeEnd":"AA==","sortOrder":1,"keysOnly":true}' },
  { what: "a count", path: "/v3/kv/range", body: '{"key":"AA==","range_end":"AA==","count_only":true}' },
  {
    what: "a txn whose compare holds",
    path: "/v3/kv/txn",
    body: '{"compare":[{"key":"Zm9v","result":"EQUAL","target":"VALUE","value":"YmFy"}],"success":[{"request_put":{"key":"Zm9v","value":"YmF6","prev_kv":true}}],"failure":[{"request_range":{"key":"Zm9v"}}]}',
  },
  {
    what: "a txn whose compare fails",
    path: "/v3/kv/txn",
    body: '{"compare":[{"key":"Zm9v","result":"EQUAL","target":"VERSION","version":"1"}],"success":[],"failure":[{"request_range":{"key":"Zm9v"}}]}',
  },
  { what: "a delete with prev_kv", path: "/v3/kv/deleterange", body: '{"key":"Zm9v","prev_kv":true}' },
  { what: "the lease revoked", path: "/v3/lease/revoke", body: '{"ID":"777"}' },
  { what: "the leased key, gone with it", path: "/v3/kv/range", body: '{"key":"bGVhc2Vk"}' },
  { what: "an unknown field", path: "/v3/kv/range", body: '{"key":"Zm9v","bogus":1}' },
  { what: "bytes that are not base64", path: "/v3/kv/range", body: '{"key":"not base64!"}', messageMayDiffer: true },
  { what: "a body that is not JSON", path: "/v3/kv/range", body: "{bad", messageMayDiffer: true },
  { what: "a GET of a POST path", path: "/v3/kv/range", body: "", method: "GET" },
  { what: "a path that is not the gateway's", path: "/v3/nope", body: "{}" },
  { what: "the health check", path: "/health", body: "", method: "GET" },
];

describe("the JSON gateway and HTTP on the client port, beside etcd 3.4's", () => {
  it("answers each request of the script as etcd does", async () => {
    for (const step of SCRIPT) {
      const want = await post(etcdUrl, step.path, step.body, step.method);
      const got = await post(shardkvUrl, step.path, step.body, step.method);
      const label = `${step.what}: ${step.method ?? "POST"} ${step.path} ${step.body}`;
      expect(got.status, label).toBe(want.status);
      if (step.messageMayDiffer === true) {
        expect(got.body, label).toMatchObject({ code: (want.body as { code: number }).code });
        expect(Object.keys(got.body as object), label).toEqual(expect.arrayContaining(Object.keys(want.body as object)));
      } else if (typeof want.body === "string") {
        expect(String(got.body).trim(), label).toBe(want.body.trim());
      } else {
        expect(masked(got.body), label).toEqual(masked(want.body));
      }
    }
  });

  it("answers GET /version in etcd's shape", async () => {
    const [want, got] = await Promise.all([post(etcdUrl, "/version", "", "GET"), post(shardkvUrl, "/version", "", "GET")]);
    expect(Object.keys(got.body as object).sort()).toEqual(Object.keys(want.body as object).sort());
    expect(got.body).toEqual({ etcdserver: "3.5.0+shardkv", etcdcluster: "3.5.0" });
  });

  it("serves /metrics on the client port, as etcd does, with shardkv's own series", async () => {
    const response = await fetch(`${shardkvUrl}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toMatch(/^shardkv_shards_total \d+$/m);
    // etcd's names too, with what only a node can say: it leads the first data shard, and its LevelDB's size.
    expect(text).toMatch(/^etcd_server_is_leader 1$/m);
    expect(Number(/^etcd_mvcc_db_total_size_in_bytes (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
    // The gateway's calls reach the counted handlers, as gRPC's do.
    expect(Number(/^grpc_server_handled_total\{grpc_type="unary",grpc_service="etcdserverpb.KV",grpc_method="Range",grpc_code="OK"\} (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
  });

  it("answers a member list and a status in etcd's names", async () => {
    const members = (await post(shardkvUrl, "/v3/cluster/member/list", "{}")).body as { members: { name: string; peerURLs: string[]; clientURLs: string[] }[] };
    expect(members.members).toEqual([{ ID: expect.stringMatching(/^\d+$/), name: "n1", peerURLs: [expect.stringMatching(/^http:\/\//)], clientURLs: [both.shardkvEndpoint] }]);
    const status = (await post(shardkvUrl, "/v3/maintenance/status", "{}")).body as Record<string, unknown>;
    const etcdStatus = (await post(etcdUrl, "/v3/maintenance/status", "{}")).body as Record<string, unknown>;
    for (const key of ["header", "version", "leader", "raftIndex", "raftTerm"]) {
      expect(status, key).toHaveProperty(key);
      expect(etcdStatus, key).toHaveProperty(key);
    }
  });

  it("takes a lock and lets it go by the gateway, with a hash-tagged name", async () => {
    const name = Buffer.from("{gw-lock}").toString("base64");
    const lease = (await post(shardkvUrl, "/v3/lease/grant", '{"TTL":30}')).body as { ID: string };
    const locked = await post(shardkvUrl, "/v3/lock/lock", JSON.stringify({ name, lease: lease.ID }));
    expect(locked.status).toBe(200);
    const key = (locked.body as { key: string }).key;
    expect(Buffer.from(key, "base64").toString()).toMatch(/^\{gw-lock\}\//);
    expect((await post(shardkvUrl, "/v3/lock/unlock", JSON.stringify({ key }))).status).toBe(200);
  });

  it("gives up a lock's wait when its HTTP client leaves, so the next waiter is not stuck behind it", async () => {
    const name = Buffer.from("{gw-wait}").toString("base64");
    const lease = async (): Promise<string> => ((await post(shardkvUrl, "/v3/lease/grant", '{"TTL":30}')).body as { ID: string }).ID;
    const held = (await post(shardkvUrl, "/v3/lock/lock", JSON.stringify({ name, lease: await lease() }))).body as { key: string };
    const leaving = new AbortController();
    const waiting = fetch(`${shardkvUrl}/v3/lock/lock`, { method: "POST", body: JSON.stringify({ name, lease: await lease() }), signal: leaving.signal }).catch(() => "left");
    const keysUnderName = async (): Promise<string | undefined> => {
      const range = { key: Buffer.from("{gw-wait}/").toString("base64"), range_end: Buffer.from("{gw-wait}0").toString("base64"), count_only: true };
      return ((await post(shardkvUrl, "/v3/kv/range", JSON.stringify(range))).body as { count?: string }).count;
    };
    await until("the waiter's key is in place behind the holder's", async () => (await keysUnderName()) === "2");
    leaving.abort();
    expect(await waiting).toBe("left");
    await post(shardkvUrl, "/v3/lock/unlock", JSON.stringify({ key: held.key }));
    const started = Date.now();
    const next = await post(shardkvUrl, "/v3/lock/lock", JSON.stringify({ name, lease: await lease() }));
    expect(next.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(2_000); // not behind the abandoned waiter's key (its lease lives 30 s)
    expect(await keysUnderName()).toBe("1"); // the abandoned waiter's key is gone; only the new holder's is left
  });

  it("streams a watch as etcd does: created, then each event, prev_kv included", async () => {
    const key = Buffer.from("watched").toString("base64");
    const streams = [etcdUrl, shardkvUrl].map((url) => openStream(url, "/v3/watch", JSON.stringify({ create_request: { key, prev_kv: true } })));
    for (const stream of streams) await stream.lines(1); // created: the watch is in place
    for (const url of [etcdUrl, shardkvUrl]) {
      await post(url, "/v3/kv/put", JSON.stringify({ key, value: "MQ==" }));
      await post(url, "/v3/kv/deleterange", JSON.stringify({ key }));
    }
    const [want, got] = (await Promise.all(streams.map((stream) => stream.lines(2)))) as [unknown[], unknown[]];
    for (const stream of streams) stream.close();
    expect(got.map((line) => masked(line))).toEqual(want.map((line) => masked(line)));
    expect(got[1]).toMatchObject({ result: { events: [{ type: "DELETE", prev_kv: { value: "MQ==" } }] } });
  });

  it("takes several watch requests in one body, and a refused one as etcd's gateway refuses it", async () => {
    const body = '{"create_request":{"key":"YQ=="}} {"create_request":{"key":"Yg=="}}';
    const streams = [etcdUrl, shardkvUrl].map((url) => openStream(url, "/v3/watch", body));
    const [want, got] = (await Promise.all(streams.map((stream) => stream.lines(2)))) as [unknown[], unknown[]];
    for (const stream of streams) stream.close();
    expect(got.map((line) => masked(line))).toEqual(want.map((line) => masked(line)));
    const refused = await post(shardkvUrl, "/v3/watch", '{"create_request":{"key":"not base64"}}');
    expect(refused).toMatchObject({ status: 400, body: { code: 3 } });
  });

  it("keeps a lease alive by the gateway, its id exact even when the body writes it as a bare number", async () => {
    const granted = (await post(shardkvUrl, "/v3/lease/grant", '{"TTL":30}')).body as { ID: string };
    expect(BigInt(granted.ID)).toBeGreaterThan(2n ** 53n); // random 63-bit ids: past a double's exact range
    const stream = openStream(shardkvUrl, "/v3/lease/keepalive", `{"ID":${granted.ID}}`);
    const [answer] = await stream.lines(1);
    stream.close();
    expect(answer).toMatchObject({ result: { ID: granted.ID, TTL: "30" } });
    expect(await post(shardkvUrl, "/v3/lease/revoke", `{"ID":${granted.ID}}`)).toMatchObject({ status: 200 });
  });

  it("ends a stream whose method fails with grpc-gateway's stream error line", async () => {
    const stream = openStream(shardkvUrl, "/v3/maintenance/snapshot", "{}");
    const [line] = await stream.lines(1);
    stream.close();
    expect(line).toMatchObject({ error: { grpc_code: 12, http_code: 501, http_status: "Not Implemented", message: expect.stringMatching(/^shardkv: a snapshot/) } });
  });

  it("refuses an oversized body, and answers a browser's preflight", async () => {
    const huge = await post(shardkvUrl, "/v3/kv/put", JSON.stringify({ key: "Zm9v", value: Buffer.alloc(3 * 1024 * 1024).toString("base64") }));
    expect(huge.status).toBe(429);
    expect(huge.body).toMatchObject({ code: 8, error: expect.stringMatching(/^shardkv: the request body is over \d+ bytes$/) });
    const preflight = await fetch(`${shardkvUrl}/v3/kv/range`, { method: "OPTIONS" });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("serves paths etcd 3.5 added, such as the auth status", async () => {
    // etcd 3.4 has no /v3/auth/status (404 there); 3.5, whose API shardkv answers as, does.
    expect(await post(shardkvUrl, "/v3/auth/status", "")).toMatchObject({ status: 200, body: { header: expect.any(Object) } });
  });

  it("adds shardkv's hint beside etcd's fields", async () => {
    const refused = await post(shardkvUrl, "/v3/kv/range", '{"key":"Zm9v","limit":"many"}');
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: 3, error: 'RangeRequest.limit: expected an integer (a number or a decimal string), got "many"', hint: expect.stringContaining("JSON") });
  });
});
