// What a leader knows about one follower's log, and how it talks to it: probe (one append at a time
// until the match point is found), replicate (pipelined appends within the inflight window) or
// snapshot (wait for a snapshot to land). Transitions live here, next to the state (STYLE.md §3).

import { assert } from "./assert.js";
import { Inflights } from "./inflights.js";

export type ProgressState = "probe" | "replicate" | "snapshot";

export class Progress {
  /** Invariant: match < next. The highest index known to be durable on the follower. */
  match = 0;
  /** The next index to send. */
  next: number;
  state: ProgressState = "probe";
  /** In snapshot state: the index of the snapshot in flight. */
  pendingSnapshot = 0;
  /** In probe state: an append is out; wait for its answer or a heartbeat before sending another. */
  probeSent = false;
  /** Heard from since the last CheckQuorum round (§6.2). */
  recentActive = false;
  readonly inflights: Inflights;
  isLearner: boolean;

  constructor(next: number, isLearner: boolean, inflightMessagesMax: number, inflightBytesMax: number) {
    this.next = next;
    this.isLearner = isLearner;
    this.inflights = new Inflights(inflightMessagesMax, inflightBytesMax);
  }

  becomeProbe(): void {
    // After a snapshot, resume right after it; otherwise right after what we know matches.
    const next = this.state === "snapshot" ? Math.max(this.match + 1, this.pendingSnapshot + 1) : this.match + 1;
    this.reset("probe");
    this.next = next;
  }

  becomeReplicate(): void {
    this.reset("replicate");
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.reset("snapshot");
    this.pendingSnapshot = snapshotIndex;
  }

  /**
   * The follower acknowledged up to `index`. Returns false when that is old news, which leaves a probe
   * paused (etcd's MaybeUpdate): only an answer that moves the match, a rejection or a heartbeat's
   * answer lets the next probe go.
   */
  maybeUpdate(index: number): boolean {
    if (index <= this.match) return false;
    this.match = index;
    this.next = Math.max(this.next, index + 1);
    this.probeSent = false;
    return true;
  }

  /** An append up to `lastIndex` went out. */
  sentEntries(lastIndex: number, count: number, bytes: number): void {
    switch (this.state) {
      case "replicate":
        if (count > 0) {
          this.next = lastIndex + 1;
          this.inflights.add(lastIndex, bytes);
        }
        return;
      case "probe":
        this.probeSent = true;
        return;
      case "snapshot":
        assert(false, "sending entries to a follower that waits for a snapshot");
    }
  }

  /**
   * The follower rejected the append at `rejected`; `matchHint` is where it suggests to retry.
   * Returns false when the rejection is stale (an answer to an append we no longer care about).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === "replicate") {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }

  /** Whether the leader must hold back appends to this follower for now. */
  isPaused(): boolean {
    switch (this.state) {
      case "probe":
        return this.probeSent;
      case "replicate":
        return this.inflights.full();
      case "snapshot":
        return true;
    }
  }

  private reset(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflights.reset();
  }
}
