// Which shard runs a transaction. A txn is one Raft entry of one shard, atomic because that shard
// applies it in one step; every key it compares, reads or writes (nested txns included) must
// therefore be in that shard. Hash tags are the way to get there, and the refusal says so. Empty
// keys are refused first, with etcd's string, so a client sees the same error etcd would give.

import type { RequestOp, TxnRequest } from "../shard/mvcc/index.js";
import { RouterError, quoteKey, requireKey } from "./errors.js";
import { taggedPrefixAdvice } from "./key_hash.js";
import type { ShardInfo, ShardMap } from "./shard_map.js";

interface Span {
  readonly key: Uint8Array;
  readonly rangeEnd: Uint8Array | undefined;
}

export function shardForTxn(map: ShardMap, txn: TxnRequest): ShardInfo {
  let chosen: { shard: ShardInfo; key: Uint8Array } | undefined;
  for (const span of spansOf(txn)) {
    requireKey(span.key);
    const shards = map.shardsForRange(span.key, span.rangeEnd);
    if (shards.length > 1) {
      throw RouterError.failedPrecondition(
        `the range from key ${quoteKey(span.key)} in this txn may span ${shards.length} shards; a txn must stay in one shard: ${taggedPrefixAdvice(span.key)}`,
      );
    }
    const shard = shards[0]!;
    if (chosen === undefined) chosen = { shard, key: span.key };
    else if (chosen.shard.id !== shard.id) {
      throw RouterError.failedPrecondition(
        `keys ${quoteKey(chosen.key)} and ${quoteKey(span.key)} are in different shards (${chosen.shard.id} and ${shard.id}); ` +
          `a txn must stay in one shard: put the part that must stay together in braces, like "{user:42}/a", so the keys share a hash tag`,
      );
    }
  }
  // A txn that names no key (no compares, no ops) touches nothing; any shard answers it alike.
  return chosen?.shard ?? map.shards[0]!;
}

function* spansOf(txn: TxnRequest): Generator<Span> {
  for (const compare of txn.compare) yield { key: compare.key, rangeEnd: compare.rangeEnd };
  for (const op of [...txn.success, ...txn.failure]) yield* spansOfOp(op);
}

function* spansOfOp(op: RequestOp): Generator<Span> {
  if ("range" in op) yield { key: op.range.key, rangeEnd: op.range.rangeEnd };
  else if ("put" in op) yield { key: op.put.key, rangeEnd: undefined };
  else if ("deleteRange" in op) yield { key: op.deleteRange.key, rangeEnd: op.deleteRange.rangeEnd };
  else yield* spansOf(op.txn);
}
