import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { prefill } from "./bench_load.js";
import type { Target } from "./bench_target.js";

/** A target whose putMany fails with the given statuses, one per call, before it succeeds. */
function failingTarget(statuses: grpc.status[]): Target & { written: Set<string>; calls: number } {
  const written = new Set<string>();
  const target = {
    address: "test",
    batch: 4,
    written,
    calls: 0,
    put: async () => undefined,
    get: async () => undefined,
    async putMany(keys: readonly Buffer[]) {
      target.calls++;
      const status = statuses.shift();
      if (status !== undefined) throw Object.assign(new Error(grpc.status[status]), { code: status });
      for (const key of keys) written.add(key.toString());
    },
    close: () => undefined,
  };
  return target;
}

const keys = Array.from({ length: 10 }, (_, i) => Buffer.from(`k${i}`));

describe("the bench prefill", () => {
  it("writes a batch again when a leader change made it UNAVAILABLE, and every key ends up written", async () => {
    const target = failingTarget([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED]);
    const written = await prefill(keys, Buffer.from("v"), [target], new AbortController().signal, () => undefined);
    expect(written).toBe(10);
    expect(target.written.size).toBe(10);
    expect(target.calls).toBeGreaterThan(3);
  });

  it("stops at a failure that writing again would not fix", async () => {
    const target = failingTarget([grpc.status.INVALID_ARGUMENT]);
    await expect(prefill(keys, Buffer.from("v"), [target], new AbortController().signal, () => undefined)).rejects.toThrow(/INVALID_ARGUMENT/);
  });
});
