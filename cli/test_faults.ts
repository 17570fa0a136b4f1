// The fault tests' injector for a real process (shardkv --test-faults=FILE, a hidden flag): the node
// reads FILE every 50 ms, `{"dropTo": [2], "dropFrom": [2, 3], "tickRate": 1.5, "clockOffsetMs": -2000,
// "clockRate": 1.02}` (node ids; every field optional), loses its messages to and from those peers,
// runs its tick clock at tickRate, and runs its wall clock (the store's nowMs) at clockRate. The wall
// clock is continuous but for steps: when clockOffsetMs changes, the clock steps by the difference
// (-2000 then -500 steps it 1.5 s forward), so a harness controls every step it makes; what a rate other
// than 1 added meanwhile stays (a restart forgets it). A missing file means no fault; a file that cannot
// be read or parsed keeps the faults in force and is logged once. The harness (test/fault/) writes the
// file atomically (a rename).

import { readFileSync } from "node:fs";
import type { NodeId } from "../raft/index.js";
import type { FaultInjector } from "../shard/fault_injector.js";

const POLL_MS = 50;
const TICK_RATE_MIN = 0.05;
const TICK_RATE_MAX = 20;
/** Wall clock offsets past a day are a typo, not a fault. */
const CLOCK_OFFSET_MS_MAX = 24 * 3600 * 1000;

export class FileFaultInjector implements FaultInjector {
  private dropTo = new Set<NodeId>();
  private dropFrom = new Set<NodeId>();
  private rate = 1;
  /** The wall clock: `wallMs` at Date.now() = `realMs`, running at `rate` since; `offsetMs` as last read. */
  private wall = { realMs: Date.now(), wallMs: Date.now(), rate: 1, offsetMs: 0 };
  private lastText: string | undefined;

  constructor(
    private readonly path: string,
    private readonly log: (line: string) => void,
  ) {
    this.read();
    setInterval(() => this.read(), POLL_MS).unref();
  }

  dropsTo(node: NodeId): boolean {
    return this.dropTo.has(node);
  }

  dropsFrom(node: NodeId): boolean {
    return this.dropFrom.has(node);
  }

  tickRate(): number {
    return this.rate;
  }

  nowMs(): number {
    const { realMs, wallMs, rate } = this.wall;
    return Math.floor(wallMs + (Date.now() - realMs) * rate);
  }

  /** Re-anchors the wall clock where it is now, stepped by the change of offset, at the new rate. */
  private setWallClock(offsetMs: number, rate: number): void {
    const realMs = Date.now();
    const wallMs = this.nowMs() + (offsetMs - this.wall.offsetMs);
    this.wall = { realMs, wallMs, rate, offsetMs };
  }

  private read(): void {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") return;
      text = "{}";
    }
    if (text === this.lastText) return;
    this.lastText = text;
    try {
      const parsed = JSON.parse(text) as { dropTo?: unknown; dropFrom?: unknown; tickRate?: unknown; clockOffsetMs?: unknown; clockRate?: unknown };
      this.dropTo = nodeSet(parsed.dropTo);
      this.dropFrom = nodeSet(parsed.dropFrom);
      this.rate = clamp(numberOr(parsed.tickRate, 1), TICK_RATE_MIN, TICK_RATE_MAX);
      this.setWallClock(Math.round(clamp(numberOr(parsed.clockOffsetMs, 0), -CLOCK_OFFSET_MS_MAX, CLOCK_OFFSET_MS_MAX)), clamp(numberOr(parsed.clockRate, 1), TICK_RATE_MIN, TICK_RATE_MAX));
      this.log(
        `test faults from ${this.path}: drop to [${[...this.dropTo].join(",")}], from [${[...this.dropFrom].join(",")}], tick rate ${this.rate}, ` +
          `wall clock offset ${this.wall.offsetMs} ms at rate ${this.wall.rate} (now ${this.nowMs() - Date.now()} ms off)`,
      );
    } catch (error) {
      this.log(`test faults: cannot parse ${this.path} (${String(error)}); the faults in force stay`);
    }
  }
}

const numberOr = (value: unknown, fallback: number): number => (typeof value === "number" && Number.isFinite(value) ? value : fallback);
const clamp = (value: number, low: number, high: number): number => Math.min(high, Math.max(low, value));

function nodeSet(value: unknown): Set<NodeId> {
  if (!Array.isArray(value)) return new Set();
  return new Set(value.filter((v): v is number => typeof v === "number" && Number.isInteger(v) && v > 0) as NodeId[]);
}
