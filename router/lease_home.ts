// Where a lease lives, and how keys of other shards attach to it. A lease's home is the shard whose
// hash range holds the hash (router/key_hash.ts) of the lease id's 8 big-endian bytes, so every node
// finds it from the id alone. The home keeps the lease's TTL and, on its leader, the deadline; it
// alone decides expiry (shard/replica.ts asks the store which leases are home).
//
// A key in another shard attaches to a stub of the lease in its own shard: the first put there that
// names the lease asks the home that the lease is alive and grants the stub (the same TTL, never
// expired there), then the put attaches to it like any lease. When the home lets the lease go
// (revoke or expiry), the stubs are revoked too, with their keys: at once by a revoke through the
// Lease service, and by lease_stubs.ts for expiries and for what a failure left behind.

import { ETCD_ERRORS, MvccError, type PutRequest, type RequestOp, type TxnRequest } from "../shard/mvcc/index.js";
import { keyHash } from "./key_hash.js";
import type { ShardAccess } from "./shard_access.js";
import type { ShardInfo, ShardMap } from "./shard_map.js";

/** The shard that holds lease `id` (ids are int64 on the wire: a negative one hashes as its two's complement). */
export function leaseHome(map: ShardMap, id: bigint): ShardInfo {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt.asUintN(64, id));
  return map.shardForHash(keyHash(bytes));
}

/** A put's key and the lease it names (0n: none). */
export interface LeasedPut {
  readonly key: Uint8Array;
  readonly lease: bigint;
}

/**
 * Makes every lease that `puts` name usable in `shard`: a lease of another shard gets a stub here,
 * once the home said it is alive. A lease that exists nowhere is etcd's NOT_FOUND, which clients
 * match to know they must grant again.
 */
export async function ensureLeasesAt(access: ShardAccess, shard: ShardInfo, puts: Iterable<LeasedPut>): Promise<void> {
  const checked = new Set<bigint>();
  for (const put of puts) {
    if (put.lease === 0n || checked.has(put.lease)) continue;
    checked.add(put.lease);
    const home = leaseHome(access.map(), put.lease);
    if (home.id === shard.id) continue;
    // Serializable is enough to skip the work: a stub seen is a stub there (a missed one is granted
    // again, and "exists" is fine).
    if ((await access.leases(shard.id, "serializable")).some((lease) => lease.id === put.lease)) continue;
    const alive = await access.leaseTimeToLive(home.id, put.lease, false);
    if (alive === undefined) throw new MvccError("NOT_FOUND", ETCD_ERRORS.leaseNotFound);
    const stub = await access.propose(shard.id, { op: "leaseGrant", id: put.lease, ttlSeconds: alive.grantedTtlSeconds });
    if (!stub.ok && !(stub.error.code === "FAILED_PRECONDITION" && stub.error.message === ETCD_ERRORS.leaseExists)) throw stub.error;
  }
}

/** The lease a put attaches; an ignore_lease put keeps the key's lease, and a lease beside it is the state machine's error. */
export function leasedPut(put: PutRequest): LeasedPut {
  return { key: put.key, lease: put.ignoreLease === true ? 0n : (put.lease ?? 0n) };
}

/** Every put of a txn, nested txns included, both branches: either may run. */
export function* putsOfTxn(txn: TxnRequest): Generator<LeasedPut> {
  for (const op of [...txn.success, ...txn.failure]) yield* putsOfOp(op);
}

function* putsOfOp(op: RequestOp): Generator<LeasedPut> {
  if ("put" in op) yield leasedPut(op.put);
  else if ("txn" in op) yield* putsOfTxn(op.txn);
}
