// The bounds of the Watch service (TIGER_STYLE: every queue has a named limit). A watcher holds one
// feed per shard its range touches, and each feed holds at most one batch of events at a time, so the
// memory a node spends on watches is bounded by feedsPerNodeMax * eventsPerResponseMax events, however
// slowly its clients read. The node-wide count lives in one WatchBudget that every stream shares.

export interface WatchLimits {
  /** Watchers on one stream; a create past it is answered created-and-canceled with the reason. */
  readonly watchersPerStreamMax: number;
  /** Shard feeds on the node, all streams together (a watch over a range that spans 4 shards takes 4). */
  readonly feedsPerNodeMax: number;
  /** Events read from a shard at once, so the most in one response (in whole revisions: a txn's may exceed it). */
  readonly eventsPerResponseMax: number;
  /**
   * Control responses (created, canceled, progress) written while the client does not read; past it
   * the stream fails with RESOURCE_EXHAUSTED. Event responses stop on their own then.
   */
  readonly controlResponsesQueuedMax: number;
  /** How often a progress_notify watcher that got no events hears how far it is synced (etcd: 10 minutes). */
  readonly progressNotifyIntervalMs: number;
}

export const WATCH_DEFAULTS: WatchLimits = Object.freeze({
  watchersPerStreamMax: 10_000,
  feedsPerNodeMax: 100_000,
  // etcd's watchable store sends at most 1,000 revisions per batch to a watcher catching up.
  eventsPerResponseMax: 1_000,
  controlResponsesQueuedMax: 1_024,
  progressNotifyIntervalMs: 10 * 60 * 1000,
});

export function resolveWatchLimits(partial: Partial<WatchLimits> = {}): WatchLimits {
  const limits: WatchLimits = { ...WATCH_DEFAULTS, ...partial };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`WatchLimits.${name} must be a positive integer, got ${String(value)}`);
  }
  if (limits.watchersPerStreamMax > limits.feedsPerNodeMax) {
    throw new RangeError(`WatchLimits.watchersPerStreamMax (${limits.watchersPerStreamMax}) cannot exceed feedsPerNodeMax (${limits.feedsPerNodeMax})`);
  }
  return limits;
}

/** The node's count of shard feeds, shared by every watch stream (and by locks and elections waiting). */
export class WatchBudget {
  #feeds = 0;

  constructor(readonly feedsMax: number) {}

  get feeds(): number {
    return this.#feeds;
  }

  /** Takes `count` feeds, or none and answers false when that would pass the limit. */
  take(count: number): boolean {
    if (this.#feeds + count > this.feedsMax) return false;
    this.#feeds += count;
    return true;
  }

  release(count: number): void {
    this.#feeds -= count;
    if (this.#feeds < 0) throw new Error(`WatchBudget released more feeds than it gave (${this.#feeds})`);
  }
}
