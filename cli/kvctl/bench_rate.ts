// `kvctl bench --rate N`: a token bucket that caps the total request rate across every worker. Each
// worker takes a token before it opens a request, so a cap below what the cluster can serve holds the
// rate at the cap while the loop stays closed (a worker never has more than one request in flight).
// Time comes in as an argument so that the arithmetic is tested without waiting on the clock.

export class TokenBucket {
  private tokens: number;
  private last: number;

  /**
   * `ratePerS` tokens a second, at most `burst` saved up while the workers are busy. The bucket starts
   * empty: a full bucket would let the first `burst` requests through at once, above the cap.
   */
  constructor(
    readonly ratePerS: number,
    readonly burst: number,
    now: number,
  ) {
    if (!(ratePerS > 0) || !(burst >= 1)) throw new RangeError(`a token bucket needs a positive rate and a burst of at least 1 (got ${ratePerS}, ${burst})`);
    this.tokens = 0;
    this.last = now;
  }

  /**
   * Takes one token at `nowMs` and returns how many milliseconds the caller must wait before using it
   * (0 when one was there). Tokens taken ahead make the count negative, so waiters queue in order and
   * together never exceed the rate.
   */
  reserve(nowMs: number): number {
    this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.last) * this.ratePerS) / 1000);
    this.last = nowMs;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.ratePerS;
  }

  /** Resolves when the caller's token is due. */
  async take(): Promise<void> {
    const waitMs = this.reserve(performance.now());
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}
