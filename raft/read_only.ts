// Linearizable reads without a log entry (Raft thesis §6.4). The leader numbers its heartbeat rounds;
// a read that arrived before round r was sent is safe once a majority acknowledged round r, because
// then no other leader could have been elected before the read arrived. The same acknowledgements
// give the leader lease (§6.4.1): no other leader can exist until the followers' election timeout
// runs out, measured from when the round was *sent*, less a margin for clocks that drift apart.

import { committedIndex } from "./quorum.js";
import type { NodeId } from "./types.js";

export interface PendingRead {
  readonly context: string;
  /** The replica that asked: the leader itself, or a follower that forwarded the read. */
  readonly from: NodeId;
  /** The commit index when the read arrived: serve it once the state machine has applied this. */
  readonly index: number;
  /** The heartbeat round whose quorum acknowledgement makes the read safe. */
  readonly round: number;
}

export class ReadIndexTracker {
  /** The last round sent. */
  private round = 0;
  /** The leader's tick count when each unconfirmed-or-recent round was sent. */
  private readonly sentTicks = new Map<number, number>();
  /** The highest round each peer acknowledged. */
  private readonly acked = new Map<NodeId, number>();
  private readonly pending: PendingRead[] = [];
  /** A read is waiting for a round that has not been sent yet. */
  roundWanted = false;

  constructor(private readonly pendingMax: number) {}

  lastRound(): number {
    return this.round;
  }

  /** The highest round `peer` acknowledged (0: none). */
  ackedRound(peer: NodeId): number {
    return this.acked.get(peer) ?? 0;
  }

  /** Reads queued for a round, not yet confirmed. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Starts a new round at `tick`; heartbeats carry its number. */
  nextRound(tick: number): number {
    this.round++;
    this.sentTicks.set(this.round, tick);
    this.roundWanted = false;
    return this.round;
  }

  ack(from: NodeId, round: number): void {
    if (round > (this.acked.get(from) ?? 0) && round <= this.round) this.acked.set(from, round);
  }

  /** The newest round that a majority of `voters` has acknowledged (the leader acknowledges its own rounds). */
  quorumRound(voters: readonly NodeId[], self: NodeId): number {
    return committedIndex(voters, (id) => (id === self ? this.round : (this.acked.get(id) ?? 0)));
  }

  /** When the newest quorum-acknowledged round was sent, in leader ticks; undefined if none was. */
  quorumRoundSentTick(voters: readonly NodeId[], self: NodeId): number | undefined {
    const round = this.quorumRound(voters, self);
    return round === 0 ? undefined : this.sentTicks.get(round);
  }

  /** Queues a read for the next round. Returns false when the queue is full. */
  add(context: string, from: NodeId, index: number): boolean {
    if (this.pending.length >= this.pendingMax) return false;
    this.pending.push({ context, from, index, round: this.round + 1 });
    this.roundWanted = true;
    return true;
  }

  /** Removes and returns the reads that a quorum has confirmed, oldest first. */
  takeConfirmed(voters: readonly NodeId[], self: NodeId): PendingRead[] {
    const quorumRound = this.quorumRound(voters, self);
    let n = 0;
    while (n < this.pending.length && this.pending[n]!.round <= quorumRound) n++;
    this.prune(voters, self);
    return n === 0 ? [] : this.pending.splice(0, n);
  }


  /** Forgets the send times of rounds that no future quorum can pick (older than every voter's ack). */
  private prune(voters: readonly NodeId[], self: NodeId): void {
    let oldest = this.round;
    for (const id of voters) if (id !== self) oldest = Math.min(oldest, this.acked.get(id) ?? 0);
    for (const round of this.sentTicks.keys()) {
      if (round >= oldest) break;
      this.sentTicks.delete(round);
    }
  }
}
