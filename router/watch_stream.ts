// One Watch RPC: the watchers a client creates on its stream, each reading one feed per shard that
// its range touches (shard_feed.ts) and writing what the feeds hand out. The responses are etcd's
// (server/etcdserver/api/v3rpc/watch.go): created first, then events; canceled on a cancel request,
// on compaction (with compact_revision) or on a refused create (created and canceled, cancel_reason);
// progress reports, with watch_id -1 when the client asked for one.
//
// Backpressure: while the client leaves written responses untaken (grpc-js's write answers false),
// the feeds stop asking for events; each holds at most one batch, so a slow client costs the node its
// watchers' positions, never a growing queue. Control responses written meanwhile are bounded too.
//
// Revisions are per shard: each response carries the events of one shard and that shard's revision in
// its header, and the events of one key always come from one shard, in order.

import * as grpc from "@grpc/grpc-js";
import type { Writable } from "../proto/index.js";
import type * as t from "../proto/index.js";
import { headerToWire, int64ToBigint } from "./etcd_convert.js";
import { taggedPrefixAdvice } from "./key_hash.js";
import { RouterError, toGrpcStatus } from "./errors.js";
import type { ShardAccess } from "./shard_access.js";
import { ShardFeed } from "./shard_feed.js";
import type { ShardInfo } from "./shard_map.js";
import type { WatchBudget, WatchLimits } from "./watch_limits.js";
import { eventsToWire, WATCH_ERRORS, type WatchSpec, watchSpecFromWire } from "./watch_request.js";

export type WatchCall = grpc.ServerDuplexStream<t.WatchRequest, Writable<t.WatchResponse>>;

/** etcd's clientv3.InvalidWatchID: the id of refused creates and of progress reports for the whole stream. */
const INVALID_WATCH_ID = "-1";

interface Watcher {
  readonly id: bigint;
  readonly spec: WatchSpec;
  readonly feeds: ShardFeed[];
  /** etcd's progress flag: no events went out since the last periodic report. */
  progressDue: boolean;
  canceled: boolean;
}

export class WatchStream {
  private readonly watchers = new Map<bigint, Watcher>();
  /** The next id to try for a watch whose client left watch_id 0 (etcd 3.4 counts per stream from 0). */
  private nextId = 0n;
  private closed = false;
  /** Requests from the client, handled in order (see start). */
  private inbox: Promise<void> = Promise.resolve();
  /** The last write answered false and no 'drain' came since: feeds wait. */
  private congested = false;
  private controlQueued = 0;
  private roomWaiters: (() => void)[] = [];
  /** A progress request waits until every feed of the stream has handed out all it knows. */
  private progressRequested = false;
  private progressTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly call: WatchCall,
    private readonly access: ShardAccess,
    private readonly budget: WatchBudget,
    private readonly limits: WatchLimits,
    /** Called once when the stream ends, however it ends. */
    private readonly onClosed: () => void = () => undefined,
  ) {}

  start(): void {
    // In order, one after another: a create over a shard held elsewhere waits for that shard's
    // current revision, and a cancel or a progress request after it must not overtake it.
    this.call.on("data", (req: t.WatchRequest) => {
      this.inbox = this.inbox.then(() => this.receive(req)).catch((error: unknown) => this.fail(error));
    });
    // etcd ends the RPC, with OK, once the client closed its side.
    this.call.on("end", () => {
      if (this.closed) return;
      this.close();
      this.call.end();
    });
    this.call.on("cancelled", () => this.close());
    this.call.on("drain", () => this.drained());
  }

  /** Watchers open on this stream (tests). */
  get size(): number {
    return this.watchers.size;
  }

  private async receive(req: t.WatchRequest): Promise<void> {
    if (this.closed) return;
    switch (req.request_union) {
      case "create_request":
        await this.create(req.create_request);
        return;
      case "cancel_request":
        this.cancel(req.cancel_request);
        return;
      case "progress_request":
        this.progressRequested = true;
        this.answerProgress();
        return;
      case undefined:
        // etcd ignores a request that sets nothing rather than end the stream's other watches.
        return;
    }
  }

  private async create(req: t.WatchCreateRequest): Promise<void> {
    let spec: WatchSpec;
    try {
      spec = watchSpecFromWire(req);
    } catch (error) {
      this.refuse(error, this.access.map().shards);
      return;
    }
    const shards = this.access.map().shardsForRange(spec.key, spec.rangeEnd);
    const refusal = this.refusalOf(spec, shards);
    if (refusal !== undefined) {
      this.refuse(refusal, shards);
      return;
    }
    const id = spec.watchId !== 0n ? spec.watchId : this.freeId();
    const watcher: Watcher = { id, spec, feeds: [], progressDue: true, canceled: false };
    try {
      // Where "now" is, per shard: at once from this node's replicas (then the feeds subscribe in
      // the same turn), after a forwarded call for a shard held elsewhere.
      const current = shards.map((shard) => this.access.currentRevision(shard.id));
      const revisions = current.every((c) => typeof c === "number") ? (current as number[]) : await Promise.all(current);
      if (this.closed) throw RouterError.unavailable("shardkv: the watch stream closed while the watch was created");
      shards.forEach((shard, i) => {
        watcher.feeds.push(new ShardFeed(this.access, shard.id, spec, spec.startRevision, revisions[i]!, this.limits.eventsPerResponseMax, () => this.answerProgress()));
      });
    } catch (error) {
      for (const feed of watcher.feeds) feed.close();
      this.budget.release(shards.length);
      this.refuse(error, shards);
      return;
    }
    this.watchers.set(id, watcher);
    this.write({ header: this.currentHeader(shards), watch_id: String(id), created: true }, true);
    if (spec.progressNotify) this.startProgressTimer();
    for (const feed of watcher.feeds) void this.pump(watcher, feed);
  }

  /** Why a well-formed create cannot be served; takes the feeds from the node's budget when it can. */
  private refusalOf(spec: WatchSpec, shards: readonly ShardInfo[]): RouterError | undefined {
    if (spec.startRevision > 0 && shards.length > 1) {
      return RouterError.failedPrecondition(
        `Cannot watch from revision ${spec.startRevision} over ${shards.length} shards: revisions compare only within a shard; ` +
          `${taggedPrefixAdvice(spec.key, "watch")}, or leave start_revision at 0`,
      );
    }
    if (spec.watchId !== 0n && this.watchers.has(spec.watchId)) return RouterError.invalidArgument(WATCH_ERRORS.duplicateId);
    if (this.watchers.size >= this.limits.watchersPerStreamMax) {
      return new RouterError(
        grpc.status.RESOURCE_EXHAUSTED,
        `Cannot create another watch: this stream has ${this.watchers.size}, its limit (watchersPerStreamMax); cancel watches you no longer need or open another stream`,
      );
    }
    if (!this.budget.take(shards.length)) {
      return new RouterError(
        grpc.status.RESOURCE_EXHAUSTED,
        `Cannot create a watch over ${shards.length} shard(s): this node serves ${this.budget.feeds} shard feeds, near its limit of ${this.budget.feedsMax} (feedsPerNodeMax); ` +
          `watch a narrower range, or use another node`,
      );
    }
    return undefined;
  }

  /** etcd's answer to a create it will not serve: created and canceled at once, with the reason. */
  private refuse(error: unknown, shards: readonly ShardInfo[]): void {
    const reason = error instanceof RouterError ? error.message : toGrpcStatus(error).details;
    this.write({ header: this.currentHeader(shards), watch_id: INVALID_WATCH_ID, created: true, canceled: true, cancel_reason: reason }, true);
  }

  private freeId(): bigint {
    while (this.watchers.has(this.nextId)) this.nextId++;
    return this.nextId++;
  }

  /** Moves one feed's batches to the client, one at a time, while the client takes them. */
  private async pump(watcher: Watcher, feed: ShardFeed): Promise<void> {
    try {
      for (;;) {
        await this.room();
        if (watcher.canceled) return;
        const batch = await feed.next();
        if (watcher.canceled || batch.kind === "closed") return;
        if (batch.kind === "compacted") {
          // etcd: canceled with the lowest revision still held; the client must not retry the same start.
          this.remove(watcher);
          const header = this.currentHeader([{ id: feed.shard }]);
          this.write({ header, watch_id: String(watcher.id), canceled: true, compact_revision: String(batch.compactRevision) }, true);
          return;
        }
        const events = eventsToWire(watcher.spec, batch.events);
        if (events.length === 0) continue;
        watcher.progressDue = false;
        this.write({ header: this.header(feed.shard, batch.revision), watch_id: String(watcher.id), events }, false);
      }
    } catch (error) {
      if (watcher.canceled) return;
      // The shard could not be read (its replica is gone, the node stops): this watch ends with the reason.
      this.remove(watcher);
      const reason = toGrpcStatus(error).details;
      this.write({ header: this.currentHeader([{ id: feed.shard }]), watch_id: String(watcher.id), canceled: true, cancel_reason: reason }, true);
    }
  }

  private cancel(req: t.WatchCancelRequest): void {
    const id = int64ToBigint(req.watch_id, "watch_id");
    const watcher = this.watchers.get(id);
    // etcd answers nothing when the watch does not exist (canceled twice, or never created).
    if (watcher === undefined) return;
    this.remove(watcher);
    const shards = watcher.feeds.map((feed) => ({ id: feed.shard }));
    this.write({ header: this.currentHeader(shards), watch_id: String(id), canceled: true }, true);
  }

  private remove(watcher: Watcher): void {
    if (watcher.canceled) return;
    watcher.canceled = true;
    this.watchers.delete(watcher.id);
    for (const feed of watcher.feeds) feed.close();
    this.budget.release(watcher.feeds.length);
    // One fewer feed to wait for.
    this.answerProgress();
  }

  /**
   * Answers a pending progress request once every feed has handed out all it knows (etcd's "synced"
   * watchers); the header's revision is the highest such revision (the only one, with one shard).
   */
  private answerProgress(): void {
    if (!this.progressRequested || this.closed) return;
    let best: { shard: number; revision: number } | undefined;
    for (const watcher of this.watchers.values()) {
      const synced = syncedOf(watcher);
      if (synced === undefined) return;
      if (best === undefined || synced.revision > best.revision) best = synced;
    }
    this.progressRequested = false;
    const header = best === undefined ? this.currentHeader(this.access.map().shards) : this.header(best.shard, best.revision);
    this.write({ header, watch_id: INVALID_WATCH_ID }, true);
  }

  private startProgressTimer(): void {
    if (this.progressTimer !== undefined) return;
    this.progressTimer = setInterval(() => this.progressTick(), this.limits.progressNotifyIntervalMs);
    this.progressTimer.unref();
  }

  /** etcd's periodic report: to each progress_notify watcher that got no events since the last tick, if synced. */
  private progressTick(): void {
    for (const watcher of this.watchers.values()) {
      if (!watcher.spec.progressNotify) continue;
      const synced = watcher.progressDue ? syncedOf(watcher) : undefined;
      if (synced !== undefined) this.write({ header: this.header(synced.shard, synced.revision), watch_id: String(watcher.id) }, true);
      watcher.progressDue = true;
    }
  }

  // ---- writing, with backpressure --------------------------------------------------------------

  private write(response: Writable<t.WatchResponse>, control: boolean): void {
    if (this.closed) return;
    if (control && this.congested && ++this.controlQueued > this.limits.controlResponsesQueuedMax) {
      this.fail(
        new RouterError(
          grpc.status.RESOURCE_EXHAUSTED,
          "etcdserver: too many requests",
          `more than ${this.limits.controlResponsesQueuedMax} watch responses wait for this client to read them (controlResponsesQueuedMax); read the stream while sending requests`,
        ),
      );
      return;
    }
    if (!this.call.write(response)) this.congested = true;
  }

  /** Resolves at once unless the client has left responses untaken; then on 'drain'. */
  private room(): Promise<void> {
    if (!this.congested || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  private drained(): void {
    this.congested = false;
    this.controlQueued = 0;
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const wake of waiters) wake();
  }

  // ---- headers -----------------------------------------------------------------------------------

  private header(shard: number, revision: number): Writable<t.ResponseHeader> {
    let raftTerm = 0;
    try {
      raftTerm = this.access.raftTerm(shard);
    } catch {
      // A shard this node no longer holds: the header says term 0 rather than fail the response.
    }
    return headerToWire({ clusterId: this.access.clusterId, memberId: this.access.memberId, revision, raftTerm });
  }

  /** The highest current revision among `shards` (what etcd reports as the store's), with that shard's term. */
  private currentHeader(shards: readonly { readonly id: number }[]): Writable<t.ResponseHeader> {
    let best: { shard: number; revision: number } | undefined;
    for (const shard of shards) {
      try {
        const revision = this.access.raftStatus(shard.id).appliedIndex;
        if (best === undefined || revision > best.revision) best = { shard: shard.id, revision };
      } catch {
        // Not held here: it adds nothing to the header.
      }
    }
    return best === undefined ? this.header(shards[0]?.id ?? 0, 0) : this.header(best.shard, best.revision);
  }

  // ---- the end -----------------------------------------------------------------------------------

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.progressTimer);
    for (const watcher of [...this.watchers.values()]) this.remove(watcher);
    this.drained();
    this.onClosed();
  }

  /** Ends the stream with `error`'s status (the node stops, the stream broke a limit). */
  fail(error: unknown): void {
    if (this.closed) return;
    this.close();
    this.call.emit("error", toGrpcStatus(error));
  }
}

/** The watcher's synced point when every one of its feeds has handed out all it knows. */
function syncedOf(watcher: Watcher): { shard: number; revision: number } | undefined {
  let best: { shard: number; revision: number } | undefined;
  for (const feed of watcher.feeds) {
    const revision = feed.syncedRevision();
    if (revision === undefined) return undefined;
    if (best === undefined || revision > best.revision) best = { shard: feed.shard, revision };
  }
  return best;
}
