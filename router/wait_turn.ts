// Waiting for one's turn under a lock's or an election's prefix, as etcd's concurrency package does
// (client/v3/concurrency/key.go, waitDeletes) but on the server: while a key of the prefix was created
// before ours, wait for the deletion of the newest such key, then look again. Our own key is watched
// too: when its lease expires (or someone deletes it) while we wait, the wait fails with etcd's "lease
// not found" at once, instead of granting a turn that nobody holds any more.

import * as grpc from "@grpc/grpc-js";
import { ETCD_ERRORS } from "../shard/mvcc/index.js";
import { RouterError, quoteKey } from "./errors.js";
import { type FeedContext, followFeed } from "./shard_feed.js";
import type { SyncPrefix } from "./sync_keys.js";


/** Our key under the prefix, and its create revision: our place in the line. */
export interface Turn {
  readonly shard: number;
  readonly sync: SyncPrefix;
  readonly key: Uint8Array;
  readonly lease: bigint;
  readonly createRevision: number;
}

/** Resolves with the shard revision at which no key older than ours remained, ours still there. */
export async function waitTurn(ctx: FeedContext, turn: Turn): Promise<number> {
  for (;;) {
    ctx.signal.throwIfAborted();
    const older = await ctx.access.range(
      turn.shard,
      { key: turn.sync.prefix, rangeEnd: turn.sync.end, maxCreateRevision: turn.createRevision - 1, sortTarget: "create", sortOrder: "descend", limit: 1 },
      "linearizable",
    );
    const newest = older.kvs[0];
    if (newest !== undefined) {
      await waitForDelete(ctx, turn, newest.key, older.revision + 1);
      continue;
    }
    // etcd's mutex checks the same after waiting: a turn whose key is gone is nobody's.
    const own = await ctx.access.range(turn.shard, { key: turn.key }, "linearizable");
    if (own.kvs[0]?.createRevision !== turn.createRevision) throw ownKeyGone(turn);
    return own.revision;
  }
}

/** Waits, from `fromRevision` on, for `target`'s deletion (or, failing the wait, for our own key's). */
async function waitForDelete(ctx: FeedContext, turn: Turn, target: Uint8Array, fromRevision: number): Promise<void> {
  // A compacted start means events were missed: the caller's next look at the state covers them.
  await followFeed(ctx, turn.shard, { key: turn.sync.prefix, rangeEnd: turn.sync.end }, fromRevision, (events) => {
    for (const event of events) {
      if (event.type !== "delete") continue;
      if (Buffer.compare(event.kv.key, turn.key) === 0) throw ownKeyGone(turn);
      if (Buffer.compare(event.kv.key, target) === 0) return true;
    }
    return false;
  });
}

function ownKeyGone(turn: Turn): RouterError {
  return new RouterError(
    grpc.status.NOT_FOUND,
    ETCD_ERRORS.leaseNotFound,
    `lease ${turn.lease} expired or was revoked while waiting, and its key ${quoteKey(turn.key)} went with it; grant a new lease and try again`,
  );
}
