// The fault tests' injector for a real process (shardkv --test-faults=FILE, a hidden flag): the node
// reads FILE every 50 ms, `{"dropTo": [2], "dropFrom": [2, 3], "tickRate": 1.5}` (node ids; every field
// optional), and loses its messages to and from those peers and runs its tick clock at that rate. A
// missing file means no fault; a file that cannot be read or parsed keeps the faults in force and is
// logged once. The harness (test/fault/) writes the file atomically (a rename).

import { readFileSync } from "node:fs";
import type { NodeId } from "../raft/index.js";
import type { FaultInjector } from "../shard/fault_injector.js";

const POLL_MS = 50;
const TICK_RATE_MIN = 0.05;
const TICK_RATE_MAX = 20;

export class FileFaultInjector implements FaultInjector {
  private dropTo = new Set<NodeId>();
  private dropFrom = new Set<NodeId>();
  private rate = 1;
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
      const parsed = JSON.parse(text) as { dropTo?: unknown; dropFrom?: unknown; tickRate?: unknown };
      this.dropTo = nodeSet(parsed.dropTo);
      this.dropFrom = nodeSet(parsed.dropFrom);
      const rate = typeof parsed.tickRate === "number" && Number.isFinite(parsed.tickRate) ? parsed.tickRate : 1;
      this.rate = Math.min(TICK_RATE_MAX, Math.max(TICK_RATE_MIN, rate));
      this.log(`test faults from ${this.path}: drop to [${[...this.dropTo].join(",")}], from [${[...this.dropFrom].join(",")}], tick rate ${this.rate}`);
    } catch (error) {
      this.log(`test faults: cannot parse ${this.path} (${String(error)}); the faults in force stay`);
    }
  }
}

function nodeSet(value: unknown): Set<NodeId> {
  if (!Array.isArray(value)) return new Set();
  return new Set(value.filter((v): v is number => typeof v === "number" && Number.isInteger(v) && v > 0) as NodeId[]);
}
