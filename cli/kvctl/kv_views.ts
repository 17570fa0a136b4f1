// Keys with their metadata in each output format, shared by get, txn, watch and elect. etcd's
// KeyValue (a lease) and ours (an expiry and a shard) meet in one row type, so every command prints a
// key the same way: key and value escaped for text, revisions as numbers, lease ids in hex.

import type { KeyValue as EtcdKeyValue } from "../../proto/index.js";
import type { shardkv } from "../../proto/index.js";
import { leaseHex } from "./flag_values.js";
import { escapeBytes, jsonBytes, type Views } from "./output.js";

export interface KvRow {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly createRevision: string;
  readonly modRevision: string;
  readonly version: string;
  /** Hex; absent when the key has none (or the API does not say). */
  readonly lease?: string;
  /** ms since the epoch; absent without a TTL. */
  readonly expiresAtMs?: string;
  readonly shard?: number;
}

export function fromEtcd(kv: EtcdKeyValue): KvRow {
  return {
    key: kv.key,
    value: kv.value,
    createRevision: kv.create_revision,
    modRevision: kv.mod_revision,
    version: kv.version,
    ...(kv.lease === "0" ? {} : { lease: leaseHex(kv.lease) }),
  };
}

export function fromShardkv(kv: shardkv.KeyValue): KvRow {
  return {
    key: kv.key,
    value: kv.value,
    createRevision: kv.create_revision,
    modRevision: kv.mod_revision,
    version: kv.version,
    ...(kv.expires_at_ms === "0" ? {} : { expiresAtMs: kv.expires_at_ms }),
    shard: kv.shard_id,
  };
}

export function kvJson(row: KvRow, keysOnly = false): Record<string, unknown> {
  return {
    ...jsonBytes("key", row.key),
    ...(keysOnly ? {} : jsonBytes("value", row.value)),
    create_revision: Number(row.createRevision),
    mod_revision: Number(row.modRevision),
    version: Number(row.version),
    ...(row.lease === undefined ? {} : { lease: row.lease }),
    ...(row.expiresAtMs === undefined ? {} : { expires_at: new Date(Number(row.expiresAtMs)).toISOString() }),
    ...(row.shard === undefined ? {} : { shard: row.shard }),
  };
}

/** The TTL column: the lease, or the time left before the key expires. */
function expiryCell(row: KvRow): string {
  if (row.lease !== undefined) return `lease ${row.lease}`;
  if (row.expiresAtMs === undefined) return "";
  const leftMs = Number(row.expiresAtMs) - Date.now();
  return leftMs > 0 ? `expires in ${Math.ceil(leftMs / 1000)}s` : "expiring";
}

export function kvTableRow(row: KvRow, keysOnly = false): string[] {
  if (keysOnly) return [escapeBytes(row.key)];
  return [escapeBytes(row.key), escapeBytes(row.value), row.version, row.createRevision, row.modRevision, expiryCell(row)];
}

export const KV_HEADER = ["KEY", "VALUE", "VERSION", "CREATE_REV", "MOD_REV", "LEASE/TTL"] as const;

/** A list of keys: etcdctl's simple form (key line, value line), a table, or `{kvs, more}`. */
export function kvListViews(rows: readonly KvRow[], options: { readonly keysOnly?: boolean; readonly more?: boolean } = {}): Views {
  const keysOnly = options.keysOnly ?? false;
  return {
    table: () => ({ header: keysOnly ? ["KEY"] : KV_HEADER, rows: rows.map((row) => kvTableRow(row, keysOnly)) }),
    json: () => ({ kvs: rows.map((row) => kvJson(row, keysOnly)), count: rows.length, more: options.more ?? false }),
    simple: () => rows.flatMap((row) => (keysOnly ? [escapeBytes(row.key)] : [escapeBytes(row.key), escapeBytes(row.value)])),
  };
}
