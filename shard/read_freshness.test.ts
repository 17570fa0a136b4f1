import { describe, expect, it } from "vitest";
import { ReadFreshness } from "./read_freshness.js";

/** A tracker on a clock the test moves by hand. */
function tracker(): { freshness: ReadFreshness; at: (ms: number) => void } {
  let now = 0;
  return { freshness: new ReadFreshness(() => now), at: (ms) => void (now = ms) };
}

describe("a replica's proved freshness", () => {
  it("proves nothing before any read-index round was answered", () => {
    const { freshness } = tracker();
    expect(freshness.freshAsOfMs(100)).toBeUndefined();
    expect(freshness.withinMs(100, 1_000_000)).toBe(false);
  });

  it("dates an answered round by when it was asked, not when it was answered", () => {
    const { freshness, at } = tracker();
    at(100);
    freshness.roundAsked("r0");
    at(150);
    freshness.roundAnswered("r0", 7);
    expect(freshness.freshAsOfMs(7)).toBe(100);
    at(300);
    expect(freshness.withinMs(7, 200)).toBe(true);
    expect(freshness.withinMs(7, 199)).toBe(false);
  });

  it("proves a round only once the replica applied its read index", () => {
    const { freshness, at } = tracker();
    at(10);
    freshness.roundAsked("r0");
    freshness.roundAnswered("r0", 20);
    expect(freshness.freshAsOfMs(19)).toBeUndefined();
    expect(freshness.freshAsOfMs(20)).toBe(10);
  });

  it("keeps the older proof while a newer round waits for its index to apply", () => {
    const { freshness, at } = tracker();
    at(10);
    freshness.roundAsked("r0");
    freshness.roundAnswered("r0", 5);
    expect(freshness.freshAsOfMs(5)).toBe(10);
    at(50);
    freshness.roundAsked("r1");
    freshness.roundAnswered("r1", 9);
    expect(freshness.freshAsOfMs(8)).toBe(10);
    expect(freshness.freshAsOfMs(9)).toBe(50);
  });

  it("ignores dropped rounds and answers for rounds it never saw asked", () => {
    const { freshness, at } = tracker();
    at(10);
    freshness.roundAsked("r0");
    freshness.roundDropped("r0");
    freshness.roundAnswered("r0", 1);
    freshness.roundAnswered("elsewhere", 1);
    expect(freshness.freshAsOfMs(100)).toBeUndefined();
  });

  it("never moves its proof back to an older round answered late", () => {
    const { freshness, at } = tracker();
    at(10);
    freshness.roundAsked("r0");
    at(20);
    freshness.roundAsked("r1");
    freshness.roundAnswered("r1", 4);
    expect(freshness.freshAsOfMs(4)).toBe(20);
    freshness.roundAnswered("r0", 3);
    expect(freshness.freshAsOfMs(4)).toBe(20);
  });
});
