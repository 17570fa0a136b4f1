import { describe, expect, it } from "vitest";
import { TICKS_CAUGHT_UP_MAX, TickClock } from "./tick_clock.js";

/** A clock over a real time the test moves. */
function clockAt(rate = () => 1): { clock: TickClock; pass: (ms: number) => void } {
  let realMs = 1_000;
  return { clock: new TickClock(100, rate, () => realMs), pass: (ms) => (realMs += ms) };
}

describe("the tick clock", () => {
  it("owes every tick that came due, however long since it was last asked, each once", () => {
    const { clock, pass } = clockAt();
    expect(clock.takeDue()).toBe(0);
    pass(250);
    expect(clock.takeDue()).toBe(2);
    pass(50);
    // 300 ms in all: the half tick left over came due.
    expect(clock.takeDue()).toBe(1);
    // A freeze of 3 s: a timer would fire once when it ends; the clock owes 30 ticks.
    pass(3_000);
    expect(clock.takeDue()).toBe(30);
    expect(clock.takeDue()).toBe(0);
  });

  it("caps what it owes after a long freeze, when more ticks would change nothing", () => {
    const { clock, pass } = clockAt();
    pass(3_600_000);
    expect(clock.takeDue()).toBe(TICKS_CAUGHT_UP_MAX);
    expect(clock.takeDue()).toBe(0);
  });

  it("owes nothing for the time before skipDue, and its reading never goes back", () => {
    const { clock, pass } = clockAt();
    pass(5_000);
    const before = clock.nowMs();
    clock.skipDue();
    expect(clock.takeDue()).toBe(0);
    pass(100);
    expect(clock.takeDue()).toBe(1);
    expect(clock.nowMs()).toBe(before + 100);
  });

  it("runs at its rate against real time, read at every reading (test faults)", () => {
    let rate = 2;
    const { clock, pass } = clockAt(() => rate);
    pass(500);
    expect(clock.nowMs()).toBe(1_000);
    expect(clock.takeDue()).toBe(10);
    expect(clock.realTickMs()).toBe(50);
    rate = 0.5;
    pass(1_000);
    expect(clock.nowMs()).toBe(1_500);
    expect(clock.takeDue()).toBe(5);
    expect(clock.realTickMs()).toBe(200);
  });
});
