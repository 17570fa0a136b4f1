// get, put, del and incr: single keys and prefixes. Plain reads and writes use etcd's KV service
// (Range for --prefix and --limit, Put with --lease, DeleteRange); what etcd's API cannot say goes
// through shardkv.v1.KV: a bounded-staleness read, a TTL per key, a put conditional on the version,
// an atomic increment. Reads fail over freely; writes only when they were never sent (client.ts).

import type { Argv } from "yargs";
import type { RangeResponse, PutResponse, DeleteRangeResponse } from "../../proto/index.js";
import type { shardkv } from "../../proto/index.js";
import { call, metadata } from "./client.js";
import { action, type Context, type GlobalArgs } from "./command.js";
import { KvctlError } from "./errors.js";
import { ExitCode } from "./exit_codes.js";
import { CONSISTENCY_HELP, consistencyOnWire, parseConsistency, parseDurationMs, parseInt64, parseLeaseId, prefixEnd } from "./flag_values.js";
import { fromEtcd, fromShardkv, kvJson, kvListViews } from "./kv_views.js";
import { escapeBytes, jsonBytes, type Views } from "./output.js";
import { readStdin } from "./stdin.js";

interface GetArgs extends GlobalArgs {
  readonly key: string;
  readonly prefix: boolean;
  readonly limit: number | undefined;
  readonly consistency: string;
  readonly "keys-only": boolean;
}

interface PutArgs extends GlobalArgs {
  readonly key: string;
  readonly value: string | undefined;
  readonly ttl: string | undefined;
  readonly lease: string | undefined;
  readonly "if-version": number | undefined;
}

interface DelArgs extends GlobalArgs {
  readonly key: string;
  readonly prefix: boolean;
}

interface IncrArgs extends GlobalArgs {
  readonly key: string;
  readonly by: string;
  readonly ttl: string | undefined;
}

export function keyCommands(y: Argv<GlobalArgs>): Argv<GlobalArgs> {
  return y
    .command(
      "get <key>",
      "Read a key, or every key under a prefix",
      (c) =>
        c
          .positional("key", { type: "string", demandOption: true, describe: "the key, or the prefix with --prefix" })
          .option("prefix", { type: "boolean", default: false, describe: "every key that starts with KEY (in key order, across shards)" })
          .option("limit", { type: "number", describe: "at most this many keys" })
          .option("consistency", { type: "string", default: "linearizable", describe: CONSISTENCY_HELP })
          .option("keys-only", { type: "boolean", default: false, describe: "print keys without their values" })
          .example("$0 get greeting", "one key (exit 1 when it does not exist)")
          .example("$0 get user/ --prefix --limit 10", "the first ten keys under user/")
          .example("$0 get greeting --consistency stale=500", "a read at most 500 ms behind, served by the nearest replica")
          .example("$0 get greeting --output json", "with its revisions, as JSON"),
      (args) => action<GetArgs>("get", get)(args),
    )
    .command(
      "put <key> [value]",
      "Write a key (the value from stdin when not given)",
      (c) =>
        c
          .positional("key", { type: "string", demandOption: true })
          .positional("value", { type: "string", describe: "the value; read from stdin when left out" })
          .option("ttl", { type: "string", describe: "the key expires this long after the write (30s, 5m): shardkv's own API" })
          .option("lease", { type: "string", describe: "attach the key to this lease (hex id from `lease grant`)" })
          .option("if-version", { type: "number", describe: "write only if the key is at this version (0: only if it does not exist); exit 1 otherwise" })
          .conflicts("lease", ["ttl", "if-version"])
          .example("$0 put greeting hello", "write a key")
          .example("$0 put session/42 alive --ttl 30s", "a key that expires in 30 s")
          .example("$0 put config v2 --if-version 1", "compare-and-set on the version")
          .example("$0 put job/1 running --lease 694d77aa9e38260f", "a key that lives as long as the lease")
          .example("cat cert.pem | $0 put tls/cert", "the value from stdin"),
      (args) => action<PutArgs>("put", put)(args),
    )
    .command(
      "del <key>",
      "Delete a key, or every key under a prefix",
      (c) =>
        c
          .positional("key", { type: "string", demandOption: true })
          .option("prefix", { type: "boolean", default: false, describe: "every key that starts with KEY (atomic per shard, not across shards)" })
          .example("$0 del greeting", "delete a key")
          .example("$0 del session/ --prefix", "delete every key under session/"),
      (args) => action<DelArgs>("del", del)(args),
    )
    .command(
      "incr <key>",
      "Add to an integer key atomically (missing counts as 0)",
      (c) =>
        c
          .positional("key", { type: "string", demandOption: true })
          .option("by", { type: "string", default: "1", describe: "the amount to add; may be negative" })
          .option("ttl", { type: "string", describe: "the key expires this long after the increment (30s, 5m)" })
          .example("$0 incr visits", "add one and print the new value")
          .example("$0 incr stock/apples --by -3", "subtract three")
          .example("$0 incr ratelimit/ip --ttl 60s", "a counter that resets a minute after its last change"),
      (args) => action<IncrArgs>("incr", incr)(args),
    );
}

async function get(args: GetArgs, { client, out }: Context): Promise<ExitCode> {
  const consistency = parseConsistency(args.consistency);
  const keysOnly = args["keys-only"];
  const what = `get ${JSON.stringify(args.key)}`;
  if (consistency.kind === "stale") {
    if (args.prefix || args.limit !== undefined) {
      throw KvctlError.usage("--consistency stale=MS reads one key (shardkv.v1 Get): it cannot be used with --prefix or --limit", "use --consistency serializable for a range");
    }
    const key = Buffer.from(args.key);
    const response = await client.unary(what, "read", (c) =>
      call<shardkv.GetResponse>((cb) =>
        c.client(c.shardkv().KV).Get({ key, consistency: consistencyOnWire(consistency), max_staleness_ms: String(consistency.maxStalenessMs) }, metadata(), client.deadline(), cb),
      ),
    );
    if (!response.found || response.kv === null) throw KvctlError.notFound(`Key ${JSON.stringify(args.key)} not found`);
    out.print(kvListViews([fromShardkv(response.kv)], { keysOnly }));
    return ExitCode.ok;
  }
  if (args.limit !== undefined && (!Number.isInteger(args.limit) || args.limit < 1)) throw KvctlError.usage(`Invalid --limit ${args.limit}: expected a positive whole number`);
  // etcd refuses an empty key; a prefix scan of "" means every key, which etcd spells "\0".."\0".
  const key = args.prefix && args.key === "" ? Buffer.from([0]) : Buffer.from(args.key);
  const response = await client.unary(what, "read", (c) =>
    call<RangeResponse>((cb) =>
      c.client(c.etcd().KV).Range(
        {
          key,
          range_end: args.prefix ? (args.key === "" ? Buffer.from([0]) : prefixEnd(key)) : null,
          limit: String(args.limit ?? 0),
          serializable: consistency.kind === "serializable",
          keys_only: keysOnly,
        },
        metadata(),
        client.deadline(),
        cb,
      ),
    ),
  );
  if (response.kvs.length === 0) {
    throw KvctlError.notFound(args.prefix ? `No key starts with ${JSON.stringify(args.key)}` : `Key ${JSON.stringify(args.key)} not found`);
  }
  out.print(kvListViews(response.kvs.map(fromEtcd), { keysOnly, more: response.more }));
  return ExitCode.ok;
}

async function put(args: PutArgs, { client, out }: Context): Promise<ExitCode> {
  const key = Buffer.from(args.key);
  const value = args.value === undefined ? await readStdin("value") : Buffer.from(args.value);
  const what = `put ${JSON.stringify(args.key)}`;
  if (args.ttl !== undefined || args["if-version"] !== undefined) {
    const ttlMs = args.ttl === undefined ? 0 : parseDurationMs(args.ttl, "--ttl");
    const version = args["if-version"];
    if (version !== undefined && (!Number.isInteger(version) || version < 0)) throw KvctlError.usage(`Invalid --if-version ${version}: expected 0 or a positive version`);
    const response = await client.unary(what, "write", (c) =>
      call<shardkv.PutResponse>((cb) =>
        c.client(c.shardkv().KV).Put(
          { key, value, ttl_ms: String(ttlMs), ...(version === undefined ? {} : { expected_version: String(version) }) },
          metadata(),
          client.deadline(),
          cb,
        ),
      ),
    );
    if (!response.succeeded) {
      const now = response.kv === null ? "the key does not exist" : `the key is at version ${response.kv.version}`;
      throw KvctlError.notFound(`Cannot ${what}: compare failed: ${now}, not ${version}`, "read the key again (kvctl get --output json shows its version) and retry with that version");
    }
    const row = response.kv === null ? undefined : fromShardkv(response.kv);
    out.print(writtenViews(key, response.header?.revision ?? "0", row === undefined ? undefined : kvJson(row, true)));
    return ExitCode.ok;
  }
  const lease = args.lease === undefined ? "0" : parseLeaseId(args.lease);
  const response = await client.unary(what, "write", (c) =>
    call<PutResponse>((cb) => c.client(c.etcd().KV).Put({ key, value, lease }, metadata(), client.deadline(), cb)),
  );
  out.print(writtenViews(key, response.header?.revision ?? "0", undefined));
  return ExitCode.ok;
}

/** etcdctl's "OK", or the key with the revision of the write. */
function writtenViews(key: Buffer, revision: string, kv: Record<string, unknown> | undefined): Views {
  return {
    table: () => ({ header: ["KEY", "REVISION"], rows: [[escapeBytes(key), revision]] }),
    json: () => ({ ...jsonBytes("key", key), revision: Number(revision), ...(kv === undefined ? {} : { kv }) }),
    simple: () => ["OK"],
  };
}

async function del(args: DelArgs, { client, out }: Context): Promise<ExitCode> {
  const key = args.prefix && args.key === "" ? Buffer.from([0]) : Buffer.from(args.key);
  const rangeEnd = args.prefix ? (args.key === "" ? Buffer.from([0]) : prefixEnd(key)) : null;
  const response = await client.unary(`del ${JSON.stringify(args.key)}`, "write", (c) =>
    call<DeleteRangeResponse>((cb) => c.client(c.etcd().KV).DeleteRange({ key, range_end: rangeEnd }, metadata(), client.deadline(), cb)),
  );
  const deleted = Number(response.deleted);
  out.print({
    table: () => ({ header: ["DELETED"], rows: [[String(deleted)]] }),
    json: () => ({ deleted, revision: Number(response.header?.revision ?? "0") }),
    simple: () => [String(deleted)],
  });
  return deleted === 0 ? ExitCode.notFound : ExitCode.ok;
}

async function incr(args: IncrArgs, { client, out }: Context): Promise<ExitCode> {
  const key = Buffer.from(args.key);
  const delta = parseInt64(args.by, "--by");
  const ttlMs = args.ttl === undefined ? 0 : parseDurationMs(args.ttl, "--ttl");
  const response = await client.unary(`incr ${JSON.stringify(args.key)}`, "write", (c) =>
    call<shardkv.IncrementResponse>((cb) => c.client(c.shardkv().KV).Increment({ key, delta, ttl_ms: String(ttlMs) }, metadata(), client.deadline(), cb)),
  );
  out.print({
    table: () => ({ header: ["KEY", "VALUE"], rows: [[escapeBytes(key), response.value]] }),
    json: () => ({ ...jsonBytes("key", key), value: response.value, ...(response.kv === null ? {} : { kv: kvJson(fromShardkv(response.kv), true) }) }),
    simple: () => [response.value],
  });
  return ExitCode.ok;
}
