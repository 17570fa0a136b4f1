import { describe, expect, test } from "vitest";
import type { CommandBody } from "./command.js";
import { eventTrimSlack } from "./events.js";
import { EventIndex } from "./event_index.js";
import { bytes, dump, memoryDb, openShard } from "./fixtures.js";
import { KeyLayout } from "./keys.js";
import { DbSource } from "./store.js";

const ALL = [bytes("\0"), bytes("\0")] as const;
const MAX = 24;

/** The rule, written plainly: whole revisions go, oldest first, until at most max - slack remain. */
class EventLogModel {
  revisions: [revision: number, count: number][] = [];

  add(revision: number, count: number): void {
    if (count > 0) this.revisions.push([revision, count]);
    let total = this.revisions.reduce((sum, [, n]) => sum + n, 0);
    if (total <= MAX) return;
    while (total > MAX - eventTrimSlack(MAX) && this.revisions.length > 0) total -= this.revisions.shift()![1];
  }

  compact(revision: number): void {
    this.revisions = this.revisions.filter(([r]) => r > revision);
  }
}

/** A workload with revisions of 0, 1, several and more events than the log keeps, and compactions. */
function workload(seed: number, steps: number): { body: CommandBody; events: number }[] {
  let state = seed;
  const random = (n: number): number => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % n;
  };
  const live = new Set<string>();
  const out: { body: CommandBody; events: number }[] = [];
  for (let i = 0; i < steps; i++) {
    const roll = random(100);
    if (roll < 60) {
      const key = `k${random(40)}`;
      live.add(key);
      out.push({ body: { op: "put", put: { key: bytes(key), value: bytes(`v${i}`) } }, events: 1 });
    } else if (roll < 75) {
      const keys = [0, 1, 2].map((j) => `t${i}-${j}`);
      keys.forEach((key) => live.add(key));
      out.push({ body: { op: "txn", txn: { compare: [], success: keys.map((key) => ({ put: { key: bytes(key), value: bytes("v") } })), failure: [] } }, events: 3 });
    } else if (roll < 85) {
      const key = `k${random(40)}`;
      out.push({ body: { op: "deleteRange", deleteRange: { key: bytes(key) } }, events: live.delete(key) ? 1 : 0 });
    } else if (roll < 90) {
      // Deletes every live key: at times more events than the log keeps in one revision.
      const deleted = live.size;
      live.clear();
      out.push({ body: { op: "deleteRange", deleteRange: { key: bytes("\0"), rangeEnd: bytes("\0") } }, events: deleted });
    } else {
      out.push({ body: { op: "compact", revision: -1 }, events: 0 }); // revision set when it runs
    }
  }
  return out;
}

async function eventsByRevision(state: { compactRevision: number; events: (from: number, key: Uint8Array, end: Uint8Array, limit: number) => Promise<{ kv: { modRevision: number } }[]> }) {
  const counts = new Map<number, number>();
  for (const event of await state.events(state.compactRevision + 1, ...ALL, 100_000)) counts.set(event.kv.modRevision, (counts.get(event.kv.modRevision) ?? 0) + 1);
  return [...counts];
}

describe("the event index", () => {
  test.each([1, 2, 3])("trims and compactions keep exactly the events the rule says, reopened or not (seed %i)", async (seed) => {
    const steady = await openShard({ eventsRetainedMax: MAX });
    const reopenedDb = memoryDb();
    let reopened = await openShard({ eventsRetainedMax: MAX }, reopenedDb);
    const model = new EventLogModel();
    let step = 0;
    for (const { body, events } of workload(seed, 400)) {
      step++;
      const revision = steady.state.applied.index + 1;
      let command = body;
      if (body.op === "compact") {
        // Halfway between the compact revision and now: a compaction that drops some events, not all.
        const target = Math.floor((steady.state.compactRevision + steady.state.revision) / 2);
        if (target <= steady.state.compactRevision) continue;
        command = { op: "compact", revision: target };
        model.compact(target);
      } else model.add(revision, events);
      const [a, b] = [await steady.one(command), await reopened.one(command)];
      expect(a.ok && b.ok).toBe(true);
      expect(await eventsByRevision(steady.state)).toEqual(model.revisions);
      // A fresh state every few commands: its index is loaded again by a scan, mid-workload.
      if (step % 7 === 0) {
        await reopened.state.flushed();
        reopened = await openShard({ eventsRetainedMax: MAX }, reopenedDb);
      }
    }
    expect(model.revisions.length).toBeGreaterThan(0);
    expect(steady.state.compactRevision).toBeGreaterThan(100);
    await steady.state.flushed();
    await reopened.state.flushed();
    expect(await dump(reopenedDb)).toEqual(await dump(steady.db));
  });

  test("a revision with more events than the log keeps goes whole, its own events too", async () => {
    const s = await openShard({ eventsRetainedMax: 4 });
    for (const key of ["a", "b", "c", "d", "e", "f"]) await s.put(key, "v");
    await s.del("\0", "\0"); // six delete events at revision 7, over a log that keeps four
    expect(await s.state.events(s.state.compactRevision + 1, ...ALL, 100)).toEqual([]);
    expect(s.state.compactRevision).toBe(7);
    await s.put("g", "v");
    expect((await s.state.events(8, ...ALL, 100)).map((e) => e.kv.modRevision)).toEqual([8]);
  });
});

describe("an event index over a log it has not read yet", () => {
  test("reads it a window at a time, never splitting a revision, and goes on with what apply added", async () => {
    const s = await openShard();
    const sizes = [1, 3, 1, 1, 5, 2, 1, 4, 1, 1, 1, 2];
    for (const [i, size] of sizes.entries()) {
      const puts = Array.from({ length: size }, (_, j) => ({ put: { key: bytes(`r${i}-${j}`), value: bytes("v") } }));
      await s.one({ op: "txn", txn: { compare: [], success: puts, failure: [] } });
    }
    await s.state.flushed();
    const openApplied = s.state.applied.index;
    const index = new EventIndex(0, openApplied, 4);
    index.committed(openApplied + 1, 2, 0); // what apply adds after the state opened
    const seen: [number, number][] = [];
    let cursor = index.start();
    let scans = 0;
    for (;;) {
      const entry = index.at(cursor);
      if (entry !== undefined) {
        seen.push([...entry]);
        cursor++;
        continue;
      }
      if (!(await index.scanMore(cursor, new DbSource(s.db), new KeyLayout(bytes("s1/"))))) break;
      scans++;
    }
    expect(seen).toEqual([...sizes.map((size, i) => [i + 1, size]), [openApplied + 1, 2]]);
    // Windows of at least 4 events, ending at a revision boundary: 1+3 | 1+1+5 | 2+1+4 | 1+1+1+2
    expect(scans).toBe(4);
  });
});
