import { describe, expect, it } from "vitest";
import { ReadWaiters } from "./read_waiters.js";

const FAR_MS = 1e15;
const timedOut = () => new Error("etcdserver: request timed out");

/** Whether `promise` settled by now (after the microtasks already queued). */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe("reads waiting for a read index", () => {
  it("are served once their index is known and the state machine reached it", async () => {
    const reads = new ReadWaiters(5);
    const read = reads.add(FAR_MS);
    expect(reads.takeUnsent("r1")).toBe(true);
    reads.indexKnown("r1", 10);
    reads.serve(9);
    expect(await settled(read)).toBe(false);
    reads.serve(10);
    await expect(read).resolves.toBeUndefined();
    expect(reads.count).toBe(0);
  });

  // Raft drops the requests of a leader that steps down, and forwarded ones that reach a replica no
  // longer leading, without telling anyone: waiting for them would wait for the deadline.
  it("are asked again, with the reads that came since, when the leader or term changes", async () => {
    const reads = new ReadWaiters(5);
    const old = reads.add(FAR_MS);
    reads.takeUnsent("r1");
    const fresh = reads.add(FAR_MS);
    reads.leaderChanged();
    expect(reads.takeUnsent("r2")).toBe(true);
    // The answer to the dropped request, should it come after all, is ignored: the reads moved on.
    reads.indexKnown("r1", 7);
    reads.serve(100);
    expect(await settled(old)).toBe(false);
    reads.indexKnown("r2", 12);
    reads.serve(12);
    await expect(old).resolves.toBeUndefined();
    await expect(fresh).resolves.toBeUndefined();
  });

  it("are asked again after retryTicks without an answer (a lost message), and not before", () => {
    const reads = new ReadWaiters(3);
    void reads.add(FAR_MS);
    reads.takeUnsent("r1");
    expect(reads.tick()).toBe(false);
    expect(reads.tick()).toBe(false);
    expect(reads.tick()).toBe(true);
    expect(reads.takeUnsent("r2")).toBe(true);
    expect(reads.count).toBe(1);
  });

  it("leave alone the reads whose index is known, which wait only for the state machine", async () => {
    const reads = new ReadWaiters(1);
    const read = reads.add(FAR_MS);
    reads.takeUnsent("r1");
    reads.indexKnown("r1", 5);
    reads.leaderChanged();
    expect(reads.tick()).toBe(false);
    expect(reads.takeUnsent("r2")).toBe(false);
    reads.serve(5);
    await expect(read).resolves.toBeUndefined();
  });

  it("held back for want of a leader wait to be sent again, and fail only at their deadline", async () => {
    const reads = new ReadWaiters(5);
    const read = reads.add(100);
    reads.takeUnsent("r1");
    reads.holdBack("r1");
    expect(reads.hasUnsent).toBe(true);
    reads.expire(99, timedOut);
    expect(await settled(read)).toBe(false);
    reads.takeUnsent("r2");
    reads.expire(100, timedOut);
    await expect(read).rejects.toThrow("etcdserver: request timed out");
    expect(reads.count).toBe(0);
    // Nothing is left to ask for once every read of a request timed out.
    reads.leaderChanged();
    expect(reads.hasUnsent).toBe(false);
  });
});
