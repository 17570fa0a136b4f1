import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { DbSource, Overlay } from "./store.js";
import { memoryDb } from "./fixtures.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("Overlay", () => {
  test("gets and scans through stacked overlays agree with applying the writes to a Map", async () => {
    const key = fc.uint8Array({ minLength: 1, maxLength: 2, max: 3 });
    const write = fc.tuple(key, fc.option(fc.uint8Array({ maxLength: 2 }), { nil: null }));
    await fc.assert(
      fc.asyncProperty(fc.array(write, { maxLength: 12 }), fc.array(write, { maxLength: 12 }), fc.array(write, { maxLength: 12 }), key, key, async (base, lower, upper, from, to) => {
        const db = memoryDb();
        await db.open();
        await db.batch(base.filter(([, v]) => v !== null).map(([k, v]) => ({ type: "put" as const, key: k, value: v! })));
        const model = new Map<string, string>();
        for (const [k, v] of base) if (v !== null) model.set(hex(k), hex(v));
        const batch = new Overlay(new DbSource(db));
        const command = new Overlay(batch);
        for (const [layer, writes] of [[batch, lower], [command, upper]] as const) {
          for (const [k, v] of writes) {
            if (v === null) {
              layer.del(k);
              model.delete(hex(k));
            } else {
              layer.put(k, v);
              model.set(hex(k), hex(v));
            }
          }
        }
        for (const [k] of [...base, ...lower, ...upper]) {
          const got = command.get(k);
          expect(got === undefined ? undefined : hex(got)).toBe(model.get(hex(k)));
        }
        const scanned: [string, string][] = [];
        for await (const [k, v] of command.scan({ gte: from, lt: to })) scanned.push([hex(k), hex(v)]);
        const expected = [...model].filter(([k]) => k >= hex(from) && k < hex(to)).sort(([a], [b]) => (a < b ? -1 : 1));
        expect(scanned).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  test("committing a command's overlay moves its writes into the batch below", async () => {
    const db = memoryDb();
    await db.open();
    const batch = new Overlay(new DbSource(db));
    const command = new Overlay(batch);
    command.put(Uint8Array.of(1), Uint8Array.of(9));
    expect(batch.get(Uint8Array.of(1))).toBeUndefined();
    command.commitTo(batch);
    expect(batch.get(Uint8Array.of(1))).toEqual(Uint8Array.of(9));
    expect(batch.batchOps()).toHaveLength(1);
  });
});
