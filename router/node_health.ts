// Whether this node can do its job, in etcd's /health shape: healthy when the store runs (no fatal
// error) and every shard replica it hosts knows a leader. A replica without a leader cannot answer a
// write or a linearizable read, so a load balancer should look elsewhere. Read-only: it only looks.

import { NONE } from "../raft/index.js";
import type { Store } from "../shard/store.js";

/** Shards named in a reason at most; the rest are counted, so the answer stays small with 10,000 shards. */
export const UNHEALTHY_SHARDS_NAMED_MAX = 32;

export type NodeHealth = { readonly healthy: true } | { readonly healthy: false; readonly reason: string };

export function nodeHealth(store: Store): NodeHealth {
  const fatal = store.fatalError;
  if (fatal !== undefined) return { healthy: false, reason: `the store stopped: ${fatal.message}` };
  const leaderless: number[] = [];
  for (const group of store.groups()) {
    if (store.replica(group).raw.raft.lead === NONE) leaderless.push(group);
  }
  if (leaderless.length === 0) return { healthy: true };
  const named = leaderless.slice(0, UNHEALTHY_SHARDS_NAMED_MAX).join(", ");
  const more = leaderless.length > UNHEALTHY_SHARDS_NAMED_MAX ? ` and ${leaderless.length - UNHEALTHY_SHARDS_NAMED_MAX} more` : "";
  const noun = leaderless.length === 1 ? "shard has" : "shards have";
  return { healthy: false, reason: `${leaderless.length} ${noun} no leader: ${named}${more}` };
}
