// The simulator's clock: events ordered by simulated time, ties broken by insertion order, so that a
// seed replays the same interleaving every time.

interface Scheduled<T> {
  readonly time: number;
  readonly seq: number;
  readonly event: T;
}

export class EventQueue<T> {
  private readonly heap: Scheduled<T>[] = [];
  private seq = 0;
  now = 0;

  get size(): number {
    return this.heap.length;
  }

  at(time: number, event: T): void {
    this.push({ time: Math.max(time, this.now), seq: this.seq++, event });
  }

  after(delay: number, event: T): void {
    this.at(this.now + delay, event);
  }

  /** The next event, advancing the clock to its time; undefined when none is left. */
  pop(): T | undefined {
    const top = this.heap[0];
    if (top === undefined) return undefined;
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    this.now = top.time;
    return top.event;
  }

  peekTime(): number | undefined {
    return this.heap[0]?.time;
  }

  private push(item: Scheduled<T>): void {
    this.heap.push(item);
    let i = this.heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(this.heap[i]!, this.heap[parent]!)) break;
      [this.heap[i], this.heap[parent]] = [this.heap[parent]!, this.heap[i]!];
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && before(this.heap[l]!, this.heap[m]!)) m = l;
      if (r < n && before(this.heap[r]!, this.heap[m]!)) m = r;
      if (m === i) return;
      [this.heap[i], this.heap[m]] = [this.heap[m]!, this.heap[i]!];
      i = m;
    }
  }
}

function before<T>(a: Scheduled<T>, b: Scheduled<T>): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
