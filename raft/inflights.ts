// The window of appends a leader has sent to one follower and not yet heard back about. Bounding it
// (by count and bytes) is what lets the leader pipeline appends without flooding a slow follower.

import { assert } from "./assert.js";

export class Inflights {
  private readonly lastIndexes: number[] = [];
  private readonly sizes: number[] = [];
  private head = 0;
  private bytes = 0;

  constructor(
    readonly messagesMax: number,
    readonly bytesMax: number,
  ) {
    assert(messagesMax > 0, "inflight window must allow at least one message");
  }

  count(): number {
    return this.lastIndexes.length - this.head;
  }

  full(): boolean {
    return this.count() >= this.messagesMax || (this.bytesMax > 0 && this.bytes >= this.bytesMax);
  }

  /** Records an append whose last entry is `lastIndex`. */
  add(lastIndex: number, bytes: number): void {
    assert(!this.full(), "add to a full inflight window");
    const last = this.lastIndexes[this.lastIndexes.length - 1];
    assert(last === undefined || this.count() === 0 || lastIndex > last, "inflight appends must grow");
    this.lastIndexes.push(lastIndex);
    this.sizes.push(bytes);
    this.bytes += bytes;
  }

  /** Frees every append whose last entry is at or below `index` (the follower acknowledged it). */
  freeLE(index: number): void {
    while (this.head < this.lastIndexes.length && this.lastIndexes[this.head]! <= index) {
      this.bytes -= this.sizes[this.head]!;
      this.head++;
    }
    if (this.head > 64 && this.head * 2 > this.lastIndexes.length) {
      this.lastIndexes.splice(0, this.head);
      this.sizes.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Frees the oldest append: its answer may be lost, and a full window would otherwise never drain. */
  freeFirstOne(): void {
    const first = this.lastIndexes[this.head];
    if (first !== undefined) this.freeLE(first);
  }

  reset(): void {
    this.lastIndexes.length = 0;
    this.sizes.length = 0;
    this.head = 0;
    this.bytes = 0;
  }
}
