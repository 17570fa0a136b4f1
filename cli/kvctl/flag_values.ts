// The values kvctl's flags take that yargs cannot check on its own: durations (`30s`), lease ids (hex,
// as etcdctl prints and takes them) and read consistency (`stale=MS`). Each parser throws a usage
// error that quotes the value and shows a good one, so a typo exits 2 before anything is sent.

import { shardkv } from "../../proto/index.js";
import { KvctlError } from "./errors.js";

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `30s`, `1.5s`, `500ms`, `2m`, `1h`; a bare number is in `bareUnit`. Returns milliseconds. */
export function parseDurationMs(text: string, flag: string, bareUnit: "s" | "ms" = "s"): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  const ms = match === null ? Number.NaN : Number(match[1]) * UNIT_MS[match[2] ?? bareUnit]!;
  if (!Number.isFinite(ms) || ms <= 0 || ms > Number.MAX_SAFE_INTEGER) {
    throw KvctlError.usage(`Invalid ${flag} ${JSON.stringify(text)}: expected a positive duration such as 30s, 500ms, 2m or 1h`);
  }
  return Math.round(ms);
}

const LEASE_ID_MAX = (1n << 63n) - 1n;

/** A lease id in hex (etcdctl's form, `694d77aa9e38260f`), as the decimal string the wire carries. */
export function parseLeaseId(text: string): string {
  const id = /^(0x)?[0-9a-f]{1,16}$/i.test(text) ? BigInt(text.startsWith("0x") ? text : `0x${text}`) : -1n;
  if (id <= 0n || id > LEASE_ID_MAX) {
    throw KvctlError.usage(`Invalid lease id ${JSON.stringify(text)}: expected the hex id that \`kvctl lease grant\` printed, such as 694d77aa9e38260f`);
  }
  return id.toString();
}

/** A lease id from the wire (decimal) in hex, as kvctl prints it everywhere. */
export function leaseHex(id: string): string {
  return BigInt(id).toString(16);
}

export type ReadConsistency =
  | { readonly kind: "linearizable" }
  | { readonly kind: "serializable" }
  | { readonly kind: "stale"; readonly maxStalenessMs: number };

export const CONSISTENCY_HELP = "linearizable (default), serializable (any replica's state), or stale=MS (at most MS ms behind)";

export function parseConsistency(text: string): ReadConsistency {
  if (text === "linearizable" || text === "serializable") return { kind: text };
  if (text.startsWith("stale=")) return { kind: "stale", maxStalenessMs: parseDurationMs(text.slice("stale=".length), "--consistency stale=", "ms") };
  throw KvctlError.usage(`Invalid --consistency ${JSON.stringify(text)}: expected ${CONSISTENCY_HELP}`);
}

/** Our API's enum value for a read consistency. */
export function consistencyOnWire(consistency: ReadConsistency): (typeof shardkv.Consistency)[keyof typeof shardkv.Consistency] {
  switch (consistency.kind) {
    case "linearizable":
      return shardkv.Consistency.LINEARIZABLE;
    case "serializable":
      return shardkv.Consistency.SERIALIZABLE;
    case "stale":
      return shardkv.Consistency.BOUNDED_STALENESS;
  }
}

/** A signed decimal int64 (incr --by), as the wire's decimal string. */
export function parseInt64(text: string, flag: string): string {
  const valid = /^-?\d{1,19}$/.test(text) && BigInt(text) >= -(1n << 63n) && BigInt(text) < 1n << 63n;
  if (!valid) throw KvctlError.usage(`Invalid ${flag} ${JSON.stringify(text)}: expected a whole number such as 1 or -5`);
  return BigInt(text).toString();
}

/** The end of a prefix scan, as etcd computes it: the prefix with its last byte below 0xff raised. */
export function prefixEnd(prefix: Uint8Array): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  // Every byte is 0xff (or the prefix is empty): etcd's "\0" end means "to the end of the keyspace".
  return Buffer.from([0]);
}
