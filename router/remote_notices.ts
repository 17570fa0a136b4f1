// Apply notices for shards held on other nodes. A watch (or a waiting lock) on this node needs to
// hear when its shard applied something; a replica here says so itself, but a shard held elsewhere
// cannot reach into this node. So one poller per such shard asks a replica of it, every pollMs, for
// its applied revision (one small forwarded call, shared by every listener of the shard) and tells
// the listeners when it moved. A watch of a remote shard thus sees a write up to pollMs late.

export class RemoteNotices {
  private readonly pollers = new Map<number, { readonly listeners: Set<(revision: number) => void>; timer: NodeJS.Timeout; last: number; asking: boolean }>();

  constructor(
    /** The shard's applied revision, from a replica that holds it. */
    private readonly ask: (shard: number) => Promise<number>,
    private readonly pollMs: number,
  ) {}

  /** Starts (or joins) the shard's poller; returns the function that leaves it. */
  listen(shard: number, listener: (revision: number) => void): () => void {
    let poller = this.pollers.get(shard);
    if (poller === undefined) {
      const created = { listeners: new Set<(revision: number) => void>(), timer: setInterval(() => this.poll(shard), this.pollMs), last: 0, asking: false };
      created.timer.unref();
      this.pollers.set(shard, created);
      poller = created;
    }
    poller.listeners.add(listener);
    const joined = poller;
    return () => {
      joined.listeners.delete(listener);
      if (joined.listeners.size > 0) return;
      clearInterval(joined.timer);
      if (this.pollers.get(shard) === joined) this.pollers.delete(shard);
    };
  }

  /** Shards polled now (tests, metrics). */
  get shards(): number {
    return this.pollers.size;
  }

  private poll(shard: number): void {
    const poller = this.pollers.get(shard);
    if (poller === undefined || poller.asking) return;
    poller.asking = true;
    this.ask(shard)
      .then((revision) => {
        if (revision <= poller.last) return;
        poller.last = revision;
        for (const listener of [...poller.listeners]) listener(revision);
      })
      // A replica that does not answer now may next time; the listeners hear nothing meanwhile.
      .catch(() => undefined)
      .finally(() => (poller.asking = false));
  }
}
