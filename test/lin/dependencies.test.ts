import { describe, expect, it } from "vitest";
import { Dependencies } from "./dependencies.js";
import { HistoryBuilder } from "./history_builder.js";
import { ValueInterner, compileOperation } from "./register.js";

function dependenciesOf(h: HistoryBuilder): Dependencies {
  const values = new ValueInterner();
  return new Dependencies(h.ops.map((op) => compileOperation(op, values)));
}

const flags = (members: Uint8Array): number[] => [...members];

describe("dependencies between one key's operations", () => {
  it("makes a read depend on every writer of the value it read, and only those", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0, 1]);
    h.write(1, "x", "b", [2, 3]);
    h.cas(2, "x", "b", "a", true, [4, 5]);
    h.read(2, "x", "a", [6, 7]);
    const members = Uint8Array.of(0, 0, 0, 1);
    dependenciesOf(h).addDependencies(members);
    // The cas that wrote "a" pulls in the writer of "b" it expected.
    expect(flags(members)).toEqual([1, 1, 1, 1]);
  });

  it("makes a read of absent depend on every delete", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0, 1]);
    h.delete(1, "x", [2, 3]);
    h.read(2, "x", null, [4, 5]);
    const members = Uint8Array.of(0, 0, 1);
    dependenciesOf(h).addDependencies(members);
    expect(flags(members)).toEqual([0, 1, 1]);
  });

  it("makes a cas that did not swap depend on every writer of another value", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0, 1]);
    h.write(1, "x", "b", [2, 3]);
    h.delete(1, "x", [4, 5]);
    h.cas(2, "x", "a", "c", false, [6, 7]);
    const members = Uint8Array.of(0, 0, 0, 1);
    dependenciesOf(h).addDependencies(members);
    expect(flags(members)).toEqual([0, 1, 1, 1]);
  });

  it("removes the readers of a removed writer's value, transitively", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0, 1]);
    h.cas(2, "x", "a", "b", true, [2, 3]);
    h.read(2, "x", "b", [4, 5]);
    h.read(3, "x", null, [6, 7]);
    const members = Uint8Array.of(1, 1, 1, 1);
    dependenciesOf(h).removeWithDependents(members, [0]);
    expect(flags(members)).toEqual([0, 0, 0, 1]);
  });

  it("removes a cas that did not swap once a writer of another value is gone", () => {
    const h = new HistoryBuilder();
    h.write(1, "x", "a", [0, 1]);
    h.write(1, "x", "b", [2, 3]);
    h.cas(2, "x", "a", "c", false, [4, 5]);
    const keepsCas = Uint8Array.of(1, 1, 1);
    dependenciesOf(h).removeWithDependents(keepsCas, [0]);
    expect(flags(keepsCas)).toEqual([0, 1, 1]);
    const dropsCas = Uint8Array.of(1, 1, 1);
    dependenciesOf(h).removeWithDependents(dropsCas, [1]);
    expect(flags(dropsCas)).toEqual([1, 0, 0]);
  });
});
