// A shard's state hash together with the revision it is as of: what Maintenance.Hash folds over the
// shards. A write can land while the hash is taken, so the revision is read before and after and the
// hash taken again when it moved, a bounded number of times (then it is approximate, as etcd's Hash
// of a busy member is).

import type { ShardState } from "../shard/mvcc/index.js";

/** How often a shard's hash is taken again when a write moved its revision meanwhile. */
const HASH_ATTEMPTS_MAX = 3;

export interface ShardHash {
  readonly shard: number;
  readonly revision: number;
  readonly compactRevision: number;
  readonly hash: number;
}

export async function stableHash(shard: number, state: ShardState): Promise<ShardHash> {
  for (let attempt = 1; ; attempt++) {
    const revision = state.revision;
    const hash = await state.hash();
    if (state.revision === revision || attempt === HASH_ATTEMPTS_MAX) {
      return { shard, revision: state.revision, compactRevision: state.compactRevision, hash };
    }
  }
}
