// How long to wait before reconnecting to a peer that failed: exponential, capped, with jitter so that
// nodes which lost a peer at the same moment do not all knock on its door in the same millisecond.
// The randomness is passed in (tests pin it); nothing here reads a clock.

export class Backoff {
  private attempts = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    /** Uniform in [0, 1). */
    private readonly random: () => number,
  ) {}

  /**
   * The wait before the next attempt: the base doubles from `initialMs` up to `maxMs`, and the wait
   * is drawn between half the base and the whole of it ("equal jitter"), so it never collapses to 0.
   */
  nextDelayMs(): number {
    const base = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempts, 30));
    this.attempts++;
    return Math.round(base / 2 + (this.random() * base) / 2);
  }

  /** A connection succeeded: the next failure starts from the initial wait again. */
  reset(): void {
    this.attempts = 0;
  }
}
