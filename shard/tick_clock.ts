// The node's tick clock: monotonic real time (performance.now), which Raft's ticks and the leader's
// lease deadlines are counted on. Ticks are owed by this clock, not by timer firings: a process that
// was frozen (SIGSTOP, a VM or GC pause, a blocked event loop) wakes to its timer firing once, and a
// leader counting firings would still believe in its lease while another leader took writes (raft.ts's
// readIndex requires the driver to deliver every tick that is due). Under test faults only, the clock
// runs at rate() against real time (shardkv --test-faults, a skewed clock).

/** Ticks owed at once after a freeze: past twice the longest election timeout (20 ticks by default), more change nothing. */
export const TICKS_CAUGHT_UP_MAX = 100;

export class TickClock {
  #realMs: number;
  #clockMs = 0;
  #tickedThroughMs = 0;

  constructor(
    readonly tickMs: number,
    /** How fast this clock runs against real time, read at every reading; 1 outside the fault tests. */
    private readonly rate: () => number = () => 1,
    private readonly realNowMs: () => number = () => performance.now(),
  ) {
    this.#realMs = realNowMs();
  }

  /** This clock's reading in ms: never goes back, never steps with the wall clock. */
  nowMs(): number {
    const realMs = this.realNowMs();
    this.#clockMs += (realMs - this.#realMs) * this.rate();
    this.#realMs = realMs;
    return this.#clockMs;
  }

  /** The ticks that came due since the last call (at most TICKS_CAUGHT_UP_MAX); the caller delivers them. */
  takeDue(): number {
    const due = Math.floor((this.nowMs() - this.#tickedThroughMs) / this.tickMs);
    if (due <= 0) return 0;
    this.#tickedThroughMs += due * this.tickMs;
    return Math.min(due, TICKS_CAUGHT_UP_MAX);
  }

  /** Owes no tick for the time until now (a store's opening, however long it took). */
  skipDue(): void {
    this.#tickedThroughMs = this.nowMs();
  }

  /** Real ms between two ticks at the current rate: the period of a timer that fires once per tick. */
  realTickMs(): number {
    return this.tickMs / this.rate();
  }
}
