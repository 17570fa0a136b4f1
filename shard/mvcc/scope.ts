// Everything one command may change while it applies, kept apart until it succeeds: its writes (an
// overlay over the call's pending batch), its events' sub-revision counter, the shard numbers it
// moves, and the lease table changes that readers may only see once the batch is written.

import type { EventIndex } from "./event_index.js";
import type { KeyLayout } from "./keys.js";
import type { MvccLimits } from "./limits.js";
import type { ShardMeta } from "./meta.js";
import { Overlay } from "./store.js";

/** ttlSeconds undefined: the lease was revoked. */
export interface LeaseChange {
  readonly id: bigint;
  readonly ttlSeconds: number | undefined;
}

export class CommandScope {
  readonly overlay: Overlay;
  /** Orders the events of this revision (etcd's sub-revision). */
  sub = 0;
  eventCount: number;
  compactRevision: number;
  readonly leaseChanges: LeaseChange[] = [];

  constructor(
    readonly layout: KeyLayout,
    readonly limits: MvccLimits,
    /** The writes of the entries before this one in the batch, over the database (with `direct`, this command's too). */
    readonly before: Overlay,
    /** The entry's index: every change this command makes carries it. */
    readonly revision: number,
    /** header.nowMs made monotonic: max(header.nowMs, meta.lastNowMs). */
    readonly nowMs: number,
    meta: ShardMeta,
    /** The shard's retained events by revision, as of `before`; apply moves it once the command succeeds. */
    readonly eventIndex: EventIndex,
    /**
     * Writes go straight into `before`: only for a command that writes nothing unless it succeeds
     * (a put checks everything first), which spares it an overlay and the copy out of it.
     */
    readonly direct = false,
  ) {
    this.overlay = direct ? before : new Overlay(before);
    this.eventCount = meta.eventCount;
    this.compactRevision = meta.compactRevision;
  }
}
