// Where a lease lives. A lease is state of one shard, its home: the shard whose hash range holds the
// hash (router/key_hash.ts) of the lease id's 8 big-endian bytes, so every node finds it from the id
// alone, with no lookup table. The home keeps the lease's TTL and, on its leader, the deadline.
//
// Keys in other shards cannot attach to a lease yet: that needs stubs in the member shards and a
// revocation that fans out (router/README.md, "Leases across shards"), which comes with the node
// issue. Until then a put whose lease lives elsewhere is refused here, before anything is proposed,
// rather than accepted into a shard whose state machine would answer "lease not found" or, worse,
// leave the key alive after the lease is revoked. With one data shard every lease is at home.

import { ETCD_ERRORS, MvccError, type PutRequest, type RequestOp, type TxnRequest } from "../shard/mvcc/index.js";
import { RouterError, quoteKey } from "./errors.js";
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
 * Refuses the first put whose lease lives in another shard than `shard`. A lease that exists nowhere is
 * etcd's NOT_FOUND whatever its home, because clients match that string to know they must grant again;
 * only a live lease in the wrong shard is FAILED_PRECONDITION.
 */
export async function requireLeasesAt(access: ShardAccess, shard: ShardInfo, puts: Iterable<LeasedPut>): Promise<void> {
  for (const put of puts) {
    if (put.lease === 0n) continue;
    const home = leaseHome(access.map(), put.lease);
    if (home.id === shard.id) continue;
    const leases = await access.leases(home.id, "serializable");
    if (!leases.some((lease) => lease.id === put.lease)) throw new MvccError("NOT_FOUND", ETCD_ERRORS.leaseNotFound);
    throw RouterError.failedPrecondition(
      `Cannot attach key ${quoteKey(put.key)} (shard ${shard.id}) to lease ${put.lease}: the lease lives in shard ${home.id}, ` +
        `and keys cannot attach to a lease of another shard yet`,
      "cross-shard leases come with multi-node support; until then run with --initial-shards 1 to attach any key to any lease",
    );
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
