// The core's only source of randomness: a seeded generator the driver passes in, so that a seed
// replays the same elections byte for byte in the simulator. SplitMix32-style mixing over a 32-bit
// state; quality is ample for election jitter and fault schedules.

export interface RandomSource {
  /** A uniform integer in [0, bound). */
  int(bound: number): number;
}

export class SeededRandom implements RandomSource {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }

  int(bound: number): number {
    if (bound <= 0) return 0;
    return this.next() % bound;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.next() / 0x1_0000_0000;
  }

  chance(probability: number): boolean {
    return this.float() < probability;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new RangeError("pick from an empty list");
    return item;
  }

  /** An independent generator for a sub-system, so that adding draws in one place does not shift another. */
  split(): SeededRandom {
    return new SeededRandom(this.next() ^ 0x5bd1e995);
  }
}
