// The --test-faults file's wall clock (cli/test_faults.ts), which the clock nemeses drive: it steps
// only when the file's offset changes, by the change, and otherwise runs at the file's rate. Fake
// timers stand in for Date.now and the injector's poll; the file is real.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FileFaultInjector } from "../../cli/test_faults.js";
import type { NodeId } from "../../raft/index.js";

describe("the test-faults wall clock", () => {
  let dir: string;
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
    dir = mkdtempSync(join(tmpdir(), "shardkv-faults-"));
  });
  afterEach(() => {
    vi.useRealTimers();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads real time when the file is missing, and steps by the offset it finds", () => {
    const path = join(dir, "faults.json");
    const injector = new FileFaultInjector(path, () => undefined);
    expect(injector.nowMs()).toBe(Date.now());
    writeFileSync(path, JSON.stringify({ clockOffsetMs: -2_000 }));
    vi.advanceTimersByTime(50);
    expect(injector.nowMs()).toBe(Date.now() - 2_000);
  });

  it("steps by the change of offset only, and keeps what a rate added meanwhile", () => {
    const path = join(dir, "faults.json");
    writeFileSync(path, JSON.stringify({ clockOffsetMs: -2_000, clockRate: 1.5 }));
    const injector = new FileFaultInjector(path, () => undefined);
    expect(injector.nowMs()).toBe(Date.now() - 2_000);
    vi.advanceTimersByTime(1_000); // 500 ms gained at 1.5
    expect(injector.nowMs()).toBe(Date.now() - 1_500);
    writeFileSync(path, JSON.stringify({ clockOffsetMs: -500 })); // 1.5 s forward, back to rate 1
    vi.advanceTimersByTime(50); // the poll: 25 ms more gained before it
    expect(injector.nowMs()).toBe(Date.now() - 1_500 + 25 + 1_500);
    vi.advanceTimersByTime(1_000);
    expect(injector.nowMs()).toBe(Date.now() + 25);
  });

  it("is not touched by a file that changes only its network faults", () => {
    const path = join(dir, "faults.json");
    writeFileSync(path, JSON.stringify({ clockOffsetMs: -700 }));
    const injector = new FileFaultInjector(path, () => undefined);
    writeFileSync(path, JSON.stringify({ clockOffsetMs: -700, dropTo: [2], tickRate: 0.5 }));
    vi.advanceTimersByTime(50);
    expect(injector.nowMs()).toBe(Date.now() - 700);
    expect(injector.dropsTo(2 as NodeId)).toBe(true);
    expect(injector.tickRate()).toBe(0.5);
  });
});
