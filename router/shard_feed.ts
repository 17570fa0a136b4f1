// A cursor over one shard's event log for one key range, read from this node's applied state: what a
// watch (and a lock or an election waiting for a deletion) is built on. It pulls: the consumer asks
// for the next batch when it can take one, the feed reads what applied since the last batch, and when
// nothing has, it waits for the shard's apply notice. So at most one read is in flight per feed, many
// notices coalesce into one read, and a consumer that stops asking (a slow client) is never buffered for.

import * as grpc from "@grpc/grpc-js";
import type { WatchEvent } from "../shard/mvcc/index.js";
import { RouterError } from "./errors.js";
import type { ShardAccess } from "./shard_access.js";

export interface FeedRange {
  readonly key: Uint8Array;
  /** Undefined: the single key; [0]: every key from `key` on; otherwise [key, rangeEnd). */
  readonly rangeEnd: Uint8Array | undefined;
}

export type FeedBatch =
  /** Events in revision order, never empty; `revision` is the shard's as of the read, at least the last event's. */
  | { readonly kind: "events"; readonly events: WatchEvent[]; readonly revision: number }
  /** The feed's next revision was compacted away; `compactRevision` is the lowest one still held. */
  | { readonly kind: "compacted"; readonly compactRevision: number }
  | { readonly kind: "closed" };

const CLOSED: FeedBatch = { kind: "closed" };

export class ShardFeed {
  /** The next revision to read. Invariant: every matching event below it has been handed out. */
  private from: number;
  /** The highest revision this shard is known to have applied (from notices and reads). */
  private noticed: number;
  private wake: (() => void) | undefined;
  private closed = false;
  private readonly stopNotices: () => void;

  /**
   * Starts at `fromRevision`, or with 0 right after `currentRevision`, what the shard has applied
   * now (etcd's "now": ShardAccess.currentRevision, read by the caller in the same turn as this).
   * Throws as ShardAccess.onApplied does when this node cannot serve the shard.
   */
  constructor(
    private readonly access: ShardAccess,
    readonly shard: number,
    private readonly range: FeedRange,
    fromRevision: number,
    currentRevision: number,
    private readonly eventsPerBatchMax: number,
    /** Called each time the feed has handed out everything and starts waiting (progress reports use it). */
    private readonly onCaughtUp: () => void = () => undefined,
  ) {
    // Subscribed before the revision is read, so that no notice can fall between the two.
    this.stopNotices = access.onApplied(shard, (revision) => this.notice(revision));
    this.noticed = currentRevision;
    this.from = fromRevision > 0 ? fromRevision : this.noticed + 1;
  }

  /** The revision the feed started after (0: "now") resolved to: its first read starts at startRevision. */
  get startRevision(): number {
    return this.from;
  }

  /**
   * When the feed waits with nothing left to hand out: the revision up to which the consumer has every
   * event (etcd's "synced" watcher, whose progress may be reported). Undefined while reading or unasked.
   */
  syncedRevision(): number | undefined {
    return this.wake === undefined ? undefined : this.noticed;
  }

  /** The next non-empty batch, waiting for the shard to apply one; rejects as ShardAccess.shardEvents does. */
  async next(): Promise<FeedBatch> {
    for (;;) {
      if (this.closed) return CLOSED;
      if (this.noticed < this.from) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.onCaughtUp();
        });
        continue;
      }
      const before = this.from;
      const read = await this.access.shardEvents(this.shard, { fromRevision: before, ...this.range, limit: this.eventsPerBatchMax });
      if (this.closed) return CLOSED;
      if (read.compacted) return { kind: "compacted", compactRevision: read.compactRevision + 1 };
      const last = read.events.at(-1);
      // A batch cut at the limit goes on right after its last revision; a whole one after the read's.
      const complete = read.events.length < this.eventsPerBatchMax;
      const through = complete || last === undefined ? read.revision : last.kv.modRevision;
      this.from = Math.max(this.from, through + 1);
      // A read behind the notice that started it cannot happen (a notice follows the state it
      // announces); were it to, trusting the read keeps this loop from spinning.
      if (read.revision < before) this.noticed = Math.min(this.noticed, read.revision);
      if (read.events.length > 0) return { kind: "events", events: read.events, revision: through };
    }
  }

  /** Stops the notices; a pending or later next() answers "closed". */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopNotices();
    this.release();
  }

  private notice(revision: number): void {
    if (revision > this.noticed) this.noticed = revision;
    if (this.noticed >= this.from) this.release();
  }

  private release(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** What a call that follows a feed (a waiting lock, an observed election) runs with. */
export interface FeedContext {
  readonly access: ShardAccess;
  /** The node's shard feeds, shared with watches: the call holds one while it follows. */
  readonly budget: { take(count: number): boolean; release(count: number): void; readonly feeds: number; readonly feedsMax: number };
  /** Aborting ends the follow with the signal's reason. */
  readonly signal: AbortSignal;
}

/**
 * Hands the feed's batches of events to `handle` until it answers true ("done"), or until the feed's
 * start was compacted away ("compacted": the caller looks at the current state again). Holds one
 * feed of the budget meanwhile; throws RESOURCE_EXHAUSTED when none is left.
 */
export async function followFeed(
  ctx: FeedContext,
  shard: number,
  range: FeedRange,
  fromRevision: number,
  handle: (events: WatchEvent[], revision: number) => boolean | Promise<boolean>,
): Promise<"done" | "compacted"> {
  ctx.signal.throwIfAborted();
  if (!ctx.budget.take(1)) {
    throw new RouterError(
      grpc.status.RESOURCE_EXHAUSTED,
      "etcdserver: too many requests",
      `this node serves ${ctx.budget.feeds} watches and waiting calls, its limit of ${ctx.budget.feedsMax} (feedsPerNodeMax); retry later or on another node`,
    );
  }
  // From this node's replica the revision comes at once, and the feed subscribes in the same turn.
  const current = ctx.access.currentRevision(shard);
  const feed = new ShardFeed(ctx.access, shard, range, fromRevision, typeof current === "number" ? current : await current, FOLLOW_EVENTS_PER_READ);
  const stop = (): void => feed.close();
  ctx.signal.addEventListener("abort", stop, { once: true });
  try {
    for (;;) {
      const batch = await feed.next();
      ctx.signal.throwIfAborted();
      // "closed" comes only from the abort above.
      if (batch.kind === "compacted") return "compacted";
      if (batch.kind === "events" && (await handle(batch.events, batch.revision))) return "done";
      ctx.signal.throwIfAborted();
    }
  } finally {
    ctx.signal.removeEventListener("abort", stop);
    feed.close();
    ctx.budget.release(1);
  }
}

/** Events read at once by a follower, which looks for a few keys only: small batches do. */
const FOLLOW_EVENTS_PER_READ = 256;
