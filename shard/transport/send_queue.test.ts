import { describe, expect, it } from "vitest";
import type { Message } from "../../raft/index.js";
import { Backoff } from "./backoff.js";
import { estimatedBytes, SendQueue } from "./send_queue.js";

const heartbeat = (round: number): Message => ({ type: "heartbeat", from: 1, to: 2, term: 1, commit: 0, round });
const append = (dataBytes: number): Message => ({
  type: "app", from: 1, to: 2, term: 1, index: 0, logTerm: 0, commit: 0,
  entries: [{ term: 1, index: 1, type: "normal", data: new Uint8Array(dataBytes) }],
});

describe("a peer's send queue", () => {
  it("refuses the newest messages beyond its message bound", () => {
    const queue = new SendQueue(3, 1 << 20);
    const offered = [1, 2, 3, 4, 5].map((round) => queue.offer(1, heartbeat(round)));
    expect(offered).toEqual([true, true, true, false, false]);
    expect(queue.take(1 << 20)).toEqual([{ group: 1, messages: [heartbeat(1), heartbeat(2), heartbeat(3)] }]);
    expect(queue.messages).toBe(0);
    expect(queue.bytes).toBe(0);
  });

  it("refuses the newest messages beyond its byte bound, but an empty queue takes any one message", () => {
    const queue = new SendQueue(100, 10_000);
    expect(queue.offer(1, append(20_000))).toBe(true);
    expect(queue.offer(1, heartbeat(1))).toBe(false);
    queue.clear();
    expect(queue.offer(1, append(6_000))).toBe(true);
    expect(queue.offer(2, append(6_000))).toBe(false);
    expect(queue.offer(2, heartbeat(2))).toBe(true);
    expect(queue.bytes).toBe(estimatedBytes(append(6_000)) + estimatedBytes(heartbeat(2)));
  });

  it("hands out batches of about the given bytes, keeping each group's order", () => {
    const queue = new SendQueue(100, 1 << 20);
    for (let i = 0; i < 4; i++) {
      queue.offer(1, append(1_000));
      queue.offer(2, heartbeat(i));
    }
    const first = queue.take(2_500);
    expect(first.map((g) => [g.group, g.messages.length])).toEqual([[1, 2]]);
    const rest = queue.take(1 << 20);
    expect(rest.map((g) => [g.group, g.messages.length])).toEqual([[1, 2], [2, 4]]);
    expect(rest[1]!.messages).toEqual([0, 1, 2, 3].map(heartbeat));
    expect(queue.messages).toBe(0);
    expect(queue.bytes).toBe(0);
  });
});

describe("the reconnect backoff", () => {
  it("doubles from the initial wait to the cap, jittered between half and all of it, and starts over after a reset", () => {
    const low = new Backoff(50, 2_000, () => 0);
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(() => low.nextDelayMs())).toEqual([25, 50, 100, 200, 400, 800, 1_000, 1_000]);
    const high = new Backoff(50, 2_000, () => 0.999_999);
    expect([1, 2, 3, 4, 5, 6, 7].map(() => high.nextDelayMs())).toEqual([50, 100, 200, 400, 800, 1_600, 2_000]);
    high.reset();
    expect(high.nextDelayMs()).toBe(50);
  });
});
