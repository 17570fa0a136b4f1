// Linearizable reads waiting on one replica: first for a read index from Raft, then for the state
// machine to reach it. Raft drops a read-index request without a word when it meets a change of
// leader (a leader's unconfirmed rounds and the reads waiting for its first commit go with its role;
// a forwarded request that reaches a replica no longer leading is dropped) or when its message is
// lost. So a read never waits on one request: those still without an index are asked again when the
// leader or the term changes, and after `retryTicks` without an answer, until their deadline, as
// etcd's linearizableReadLoop re-sends its ReadIndex (readIndexRetryTime, and on a new term's first
// commit). A change of leader is then invisible to the client but for the wait.
//
// Asking again is safe: Raft answers a request only from a leader that has committed an entry of its
// own term (raft/leader.ts leaderRead holds them until then, as etcd-io/raft's
// pendingReadIndexMessages) and that confirmed its leadership after the request reached it (a
// heartbeat round, or its lease). A request sent after a read arrived is answered with an index that
// covers every write acknowledged before the read arrived, whoever answers it. An answer to an older
// request that comes after the read moved on is ignored: its waiters are already under a newer one.

/** Ticks without an answer before a read index is asked for again (etcd: 500 ms, 5 of our default ticks). */
export const READ_RETRY_TICKS_DEFAULT = 5;

interface ReadWaiter {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  readonly deadlineMs: number;
}

interface AskedReads {
  waiters: ReadWaiter[];
  /** Ticks since the read index was asked for under this context. */
  ticks: number;
}

export class ReadWaiters {
  /** Reads not yet sent to the Raft core: they share one read index per turn (etcd batches them the same way). */
  private unsent: ReadWaiter[] = [];
  /** Reads whose read index was asked for, by context. */
  private readonly asked = new Map<string, AskedReads>();
  /** Reads that know their index and wait for the state machine, oldest first. */
  private readonly ready: { index: number; waiters: ReadWaiter[] }[] = [];

  constructor(private readonly retryTicks = READ_RETRY_TICKS_DEFAULT) {
    if (!(retryTicks >= 1)) throw new RangeError(`readRetryTicks must be at least 1, got ${retryTicks}`);
  }

  get count(): number {
    let count = this.unsent.length;
    for (const batch of this.asked.values()) count += batch.waiters.length;
    for (const batch of this.ready) count += batch.waiters.length;
    return count;
  }

  /** Whether some reads wait to be sent to Raft at the next turn. */
  get hasUnsent(): boolean {
    return this.unsent.length > 0;
  }

  add(deadlineMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.unsent.push({ resolve, reject, deadlineMs });
    });
  }

  /** Hands out the reads not yet sent, under one context. */
  takeUnsent(context: string): boolean {
    if (this.unsent.length === 0) return false;
    this.asked.set(context, { waiters: this.unsent, ticks: 0 });
    this.unsent = [];
    return true;
  }

  /** Raft refused the reads under `context` for a reason that may pass (no leader yet): they wait to be sent again. */
  holdBack(context: string): void {
    this.sendAgain(context);
  }

  fail(context: string, error: Error): void {
    const batch = this.asked.get(context);
    this.asked.delete(context);
    for (const waiter of batch?.waiters ?? []) waiter.reject(error);
  }

  indexKnown(context: string, index: number): void {
    const batch = this.asked.get(context);
    if (batch === undefined) return;
    this.asked.delete(context);
    this.ready.push({ index, waiters: batch.waiters });
  }

  /** Serves the reads whose index the state machine reached. */
  serve(appliedIndex: number): void {
    let kept = 0;
    for (const batch of this.ready) {
      if (batch.index <= appliedIndex) for (const waiter of batch.waiters) waiter.resolve();
      else this.ready[kept++] = batch;
    }
    this.ready.length = kept;
  }

  /** The leader or the term changed: every request still unanswered may have been dropped, so all are sent again. */
  leaderChanged(): void {
    for (const context of [...this.asked.keys()]) this.sendAgain(context);
  }

  /** One tick: requests unanswered for `retryTicks` are sent again. Returns whether reads wait to be sent. */
  tick(): boolean {
    if (this.asked.size > 0) {
      for (const [context, batch] of this.asked) if (++batch.ticks >= this.retryTicks) this.sendAgain(context);
    }
    return this.unsent.length > 0;
  }

  private sendAgain(context: string): void {
    const batch = this.asked.get(context);
    if (batch === undefined) return;
    this.asked.delete(context);
    // Older reads first, though the whole queue goes out under one context at the next turn.
    this.unsent = batch.waiters.concat(this.unsent);
  }

  /** Fails every read whose deadline passed. */
  expire(nowMs: number, timedOut: () => Error): void {
    if (this.unsent.length === 0 && this.asked.size === 0 && this.ready.length === 0) return;
    const reject = (list: ReadWaiter[]) => {
      const left = list.filter((w) => w.deadlineMs > nowMs);
      if (left.length < list.length) for (const w of list) if (w.deadlineMs <= nowMs) w.reject(timedOut());
      return left;
    };
    this.unsent = reject(this.unsent);
    for (const [context, batch] of this.asked) {
      batch.waiters = reject(batch.waiters);
      if (batch.waiters.length === 0) this.asked.delete(context);
    }
    for (const batch of this.ready) batch.waiters = reject(batch.waiters);
  }

  failAll(error: Error): void {
    for (const w of this.unsent) w.reject(error);
    this.unsent = [];
    for (const batch of this.asked.values()) for (const w of batch.waiters) w.reject(error);
    this.asked.clear();
    for (const batch of this.ready) for (const w of batch.waiters) w.reject(error);
    this.ready.length = 0;
  }
}
