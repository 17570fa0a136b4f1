// How fresh a replica's applied state provably is, for bounded-staleness reads: the latest time T
// (on this node's monotonic clock) such that every write acknowledged anywhere before T has applied
// here. Reads with a staleness bound may be served from the local state while now - T <= bound.
// Nothing here changes what Raft does; it only remembers what ReadIndex already proved.
//
// The proof comes from our own ReadIndex rounds (Raft §6.4). A batch of linearizable reads asked at
// time A gets a read index R from a leader that confirmed its leadership after A (a heartbeat round
// or its lease): every write acknowledged before A is at or below R. Once this replica applied R,
// its state holds every write older than A. So each answered ReadIndex, leader or follower, yields
// a point (A, R), and the freshest point whose R has applied gives T = A.
//
// Why not the time of the last message from the leader, with the commit index it carried: a
// heartbeat carries min(follower's match, commit) (raft/leader.ts), so a lagging follower learns a
// commit index as low as its own and would wrongly look fresh; a message's send time is unknown to
// the receiver (time in transit would be missed); and a deposed leader may still reach a follower.
// The ReadIndex point needs no clock agreement between nodes, only a local clock that does not jump
// (performance.now, never the wall clock, which NTP may step back).

/** A proved point: every write acknowledged before `askedAtMs` has index <= `index`. */
interface FreshnessPoint {
  readonly askedAtMs: number;
  readonly index: number;
}

/** Read-index rounds remembered while unanswered; older ones are forgotten (their reads time out anyway). */
const ASKED_MAX = 256;
/** Answered points waiting for their index to apply; newer points are better, so the oldest go first. */
const PENDING_MAX = 16;

export class ReadFreshness {
  private readonly asked = new Map<string, number>();
  private pending: FreshnessPoint[] = [];
  /** The freshest point whose index has applied; invariant: its askedAtMs only grows. */
  private proved: FreshnessPoint | undefined;

  constructor(private readonly monotonicMs: () => number = () => performance.now()) {}

  nowMs(): number {
    return this.monotonicMs();
  }

  /** A read-index round went to Raft under `context`. */
  roundAsked(context: string): void {
    if (this.asked.size >= ASKED_MAX) this.asked.delete(this.asked.keys().next().value!);
    this.asked.set(context, this.monotonicMs());
  }

  /** The round under `context` will not be answered (no leader). */
  roundDropped(context: string): void {
    this.asked.delete(context);
  }

  /** Raft answered the round under `context` with read index `index`. */
  roundAnswered(context: string, index: number): void {
    const askedAtMs = this.asked.get(context);
    if (askedAtMs === undefined) return;
    this.asked.delete(context);
    if (this.proved !== undefined && askedAtMs <= this.proved.askedAtMs) return;
    if (this.pending.length >= PENDING_MAX) this.pending.shift();
    this.pending.push({ askedAtMs, index });
  }

  /**
   * The time (monotonic ms) before which every acknowledged write has applied here, given the
   * replica's applied index; undefined when nothing is proved yet.
   */
  freshAsOfMs(appliedIndex: number): number | undefined {
    let kept = 0;
    for (const point of this.pending) {
      if (point.index <= appliedIndex) {
        if (this.proved === undefined || point.askedAtMs > this.proved.askedAtMs) this.proved = point;
      } else if (this.proved === undefined || point.askedAtMs > this.proved.askedAtMs) {
        this.pending[kept++] = point;
      }
    }
    this.pending.length = kept;
    return this.proved?.askedAtMs;
  }

  /** Whether the state at `appliedIndex` holds every write acknowledged more than `maxStalenessMs` ago. */
  withinMs(appliedIndex: number, maxStalenessMs: number): boolean {
    const fresh = this.freshAsOfMs(appliedIndex);
    return fresh !== undefined && this.monotonicMs() - fresh <= maxStalenessMs;
  }
}
