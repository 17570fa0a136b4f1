// The leader's lease deadlines, in memory and never replicated (as etcd's lessor): only the leader
// decides that a lease expired, and it says so with a leaseRevoke entry. On promotion every deadline
// starts over at now + TTL, so that no lease expires early because a previous leader's clock was
// lost with it (etcd's lessor Promote does the same); a follower's clock holds nothing.

export class LeaseClock {
  /** lease id -> { ttlSeconds, deadlineMs }; empty when not leader. */
  readonly #leases = new Map<bigint, { ttlSeconds: number; deadlineMs: number }>();
  #leader = false;

  get isLeader(): boolean {
    return this.#leader;
  }

  promote(leases: readonly { id: bigint; ttlSeconds: number }[], nowMs: number): void {
    this.#leader = true;
    this.#leases.clear();
    for (const { id, ttlSeconds } of leases) this.#leases.set(id, { ttlSeconds, deadlineMs: nowMs + ttlSeconds * 1000 });
  }

  demote(): void {
    this.#leader = false;
    this.#leases.clear();
  }

  /** A grant applied (on the leader): the lease lives for its TTL from now. */
  granted(id: bigint, ttlSeconds: number, nowMs: number): void {
    if (!this.#leader) return;
    this.#leases.set(id, { ttlSeconds, deadlineMs: nowMs + ttlSeconds * 1000 });
  }

  /** Renews a live lease and returns its TTL; undefined if unknown, expired, or not leader. */
  keepAlive(id: bigint, nowMs: number): number | undefined {
    const lease = this.#leases.get(id);
    if (lease === undefined || lease.deadlineMs <= nowMs) return undefined;
    lease.deadlineMs = nowMs + lease.ttlSeconds * 1000;
    return lease.ttlSeconds;
  }

  revoked(id: bigint): void {
    this.#leases.delete(id);
  }

  /** Time left before the lease expires (0 once it has); undefined if unknown here. */
  remainingMs(id: bigint, nowMs: number): number | undefined {
    const lease = this.#leases.get(id);
    return lease === undefined ? undefined : Math.max(0, lease.deadlineMs - nowMs);
  }

  /** Leases whose deadline passed, earliest first (then by id), at most `limit`. */
  expired(nowMs: number, limit: number): bigint[] {
    const due: { id: bigint; deadlineMs: number }[] = [];
    for (const [id, lease] of this.#leases) if (lease.deadlineMs <= nowMs) due.push({ id, deadlineMs: lease.deadlineMs });
    due.sort((a, b) => a.deadlineMs - b.deadlineMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return due.slice(0, Math.max(0, limit)).map((lease) => lease.id);
  }
}
