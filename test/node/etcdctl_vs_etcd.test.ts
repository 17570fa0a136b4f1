// etcdctl against etcd 3.4 and against a shardkv node, command by command: the same script runs on
// both, from empty, and each command's output and exit code must match once what differs by nature
// (ids, revisions, terms, timings, addresses) is masked. Keys share a hash tag where a command needs
// one shard (txn, a lock's or an election's name); what differs by design is tested elsewhere
// (etcdctl_processes.test.ts: txns and compaction over several shards, snapshots, auth).

import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BesideEtcd, startBesideEtcd } from "../support/beside_etcd.js";

let both: BesideEtcd;

beforeAll(async () => {
  both = await startBesideEtcd("etcdctl-vs-etcd");
}, 60_000);

afterAll(async () => {
  await both?.stop();
});

interface Run {
  readonly code: number | null;
  readonly output: string;
}

/** One etcdctl command, `input` on its stdin; the client library's retry warnings left out. */
function etcdctl(endpoint: string, args: readonly string[], input = ""): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn("etcdctl", [`--endpoints=${endpoint}`, ...args], { env: { ...process.env, ETCDCTL_API: "3" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => {
      const errors = stderr.split("\n").filter((line) => !line.startsWith('{"level":"warn"'));
      resolve({ code, output: `${stdout}${errors.join("\n").trim() === "" ? "" : `\n(stderr) ${errors.join("\n")}`}` });
    });
    child.stdin.end(input);
  });
}

/** What differs by nature between two clusters: ids, revisions, terms, timings, endpoints. */
function masked(text: string, endpoint: string): string {
  return text
    .replaceAll(endpoint, "<endpoint>")
    .replace(/"(cluster_id|member_id|revision|raft_term|create_revision|mod_revision|ID|TTL|granted-ttl)":\s*\d+/g, '"$1":<n>')
    .replace(/^"(ClusterID|MemberID|Revision|RaftTerm|CreateRevision|ModRevision)" : \d+$/gm, '"$1" : <n>')
    .replace(/\b[0-9a-f]{16}\b/g, "<hex>")
    .replace(/took = [\d.]+[µm]?s/g, "took = <t>")
    .replace(/"took":"[^"]*"/g, '"took":"<t>"');
}

/** [args, stdin]: each runs on etcd, then on shardkv. */
const SCRIPT: readonly (readonly [readonly string[], string?])[] = [
  [["put", "foo", "bar"]],
  [["put", "foo", "baz", "--prev-kv"]],
  [["get", "foo"]],
  [["get", "foo", "-w", "json"]],
  [["get", "nope"]],
  [["get", "nope", "-w", "json"]],
  [["put", "k1", "v1"]],
  [["put", "k2", "v2"]],
  [["get", "k", "--prefix"]],
  [["get", "k", "--prefix", "--keys-only"]],
  [["get", "k", "--prefix", "--print-value-only"]],
  [["get", "k", "--prefix", "--limit", "1", "-w", "json"]],
  [["get", "k", "--prefix", "--sort-by=KEY", "--order=DESCEND"]],
  [["get", "k", "--prefix", "--sort-by=VALUE", "--order=ASCEND"]],
  [["get", "k", "--from-key"]],
  [["get", "", "--prefix", "--keys-only"]],
  [["put", "bin"], "\u0000\u0001\u00ff"],
  [["get", "bin", "-w", "json"]],
  [["put", "", "x"]],
  [["put", "stdin-value"], "from stdin"],
  [["get", "stdin-value", "--print-value-only"]],
  [["del", "nope"]],
  [["del", "k1", "--prev-kv"]],
  [["del", "k", "--prefix"]],
  [["get", "foo", "--consistency=s", "-w", "simple"]],
  [["put", "{a}x", "1"]],
  [["put", "{a}x", "2"]],
  [["put", "{a}y", "3"]],
  [["get", "{a}x", "-w", "fields"]],
  [["put", "{a}x", "9", "--ignore-value"]],
  [["put", "{a}z", "9", "--ignore-value"]],
  [["put", "{a}x", "5", "--lease=1234"]],
  [["get", "{a}", "--prefix", "--sort-by=MODIFY", "--order=DESCEND", "--keys-only"]],
  [["get", "{a}", "--prefix", "--sort-by=CREATE", "--keys-only"]],
  [["get", "{a}", "--prefix", "--sort-by=VERSION", "--keys-only"]],
  [["txn", "-w", "json"], 'mod("{a}y") > "0"\n\nget {a}y\n\n\n'],
  [["txn"], 'value("{a}x") = "2"\n\nput {a}x 3\n\nget {a}x\n\n'],
  [["txn"], 'create("{a}y") < "1"\n\n\nget {a}y --print-value-only\n\n'],
  [["txn"], 'value("{a}q") != "x"\n\nput {a}q 1\n\n\n'],
  [["lease", "grant", "60", "-w", "json"]],
  [["lease", "timetolive", "1234"]],
  [["lease", "revoke", "1234"]],
  [["lease", "keep-alive", "--once", "1234"]],
  [["lease", "grant", "0"]],
  [["lease", "grant", "100000000000"]],
  [["endpoint", "health"]],
  [["endpoint", "health", "-w", "json"]],
  [["alarm", "list"]],
  [["alarm", "disarm"]],
  [["defrag"]],
  [["auth", "status"]],
  [["user", "list"]],
  [["role", "list"]],
  [["lock", "{l}", "echo", "locked"]],
];

describe("etcdctl against a node and against etcd 3.4", () => {
  it("gets the same output and exit code from every command of the script", async () => {
    const etcdEndpoint = both.etcdEndpoint;
    const shardkvEndpoint = both.shardkvEndpoint;
    for (const [args, input] of SCRIPT) {
      const want = await etcdctl(etcdEndpoint, args, input);
      const got = await etcdctl(shardkvEndpoint, args, input);
      const label = `etcdctl ${args.join(" ")}${input === undefined ? "" : ` <<< ${JSON.stringify(input)}`}`;
      expect({ code: got.code, output: masked(got.output, shardkvEndpoint) }, label).toEqual({ code: want.code, output: masked(want.output, etcdEndpoint) });
    }
  }, 60_000);
});
