// The lock checker: what must hold of the holders that the lock workload recorded, and of the fenced
// resource's order. Violations are sentences naming the holders, their tokens and times.
// 1. Tokens are positive and no two acquisitions share one.
// 2. An acquisition that began after another returned has a higher token (the fencing token grows).
// 3. Mutual exclusion: no two holders surely held the lock at once. A holder surely holds it from
//    when Lock returned until it calls Unlock or its lease may have run out (the last renewal it
//    saw, plus the TTL), whichever comes first. A grant that arrives after that (the lease ran out
//    while the answer was on its way) is stale: it proves nothing, and the fence must refuse it.
// 4. The resource's accepted writes: tokens never decrease, and between a holder's accepted "begin"
//    and its accepted "end" no other holder's write was accepted.

import type { FencedWrite } from "./fenced_resource.js";
import type { Holding } from "./locks.js";

/** Leeway for the servers' lease clocks against ours (same machine; the lease is renewed on apply). */
export const LEASE_MARGIN_MS = 100;

export function checkLocks(holdings: readonly Holding[], accepted: readonly FencedWrite[]): string[] {
  const violations: string[] = [];
  const byToken = new Map<number, Holding>();
  for (const h of holdings) {
    if (!(h.token > 0)) violations.push(`holder ${h.holder} got token ${h.token}: a Lock must return its key's positive revision`);
    const other = byToken.get(h.token);
    if (other !== undefined) violations.push(`holders ${other.holder} and ${h.holder} got the same token ${h.token}`);
    byToken.set(h.token, h);
  }
  const sorted = [...holdings].sort((a, b) => a.lockReturnMs - b.lockReturnMs);
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i]!;
    for (let j = i + 1; j < sorted.length; j++) {
      const b = sorted[j]!;
      if (b.lockCallMs > a.lockReturnMs && !(b.token > a.token)) {
        violations.push(`holder ${b.holder} asked for the lock at ${ms(b.lockCallMs)} after holder ${a.holder} got it at ${ms(a.lockReturnMs)}, yet its token ${b.token} is not above ${a.token}`);
      }
      if (b.lockReturnMs < heldUntil(a) && b.lockReturnMs < heldUntil(b)) {
        violations.push(
          `holders ${a.holder} (token ${a.token}) and ${b.holder} (token ${b.token}) held the lock at once: ${b.holder} got it at ${ms(b.lockReturnMs)}, ` +
            `while ${a.holder}, which got it at ${ms(a.lockReturnMs)}, had not unlocked (${ms(a.releaseCallMs)}) and its lease lived until at least ${ms(a.aliveUntilMs)}`,
        );
      }
    }
  }
  violations.push(...checkFencedOrder(accepted));
  return violations;
}

export function checkFencedOrder(accepted: readonly FencedWrite[]): string[] {
  const violations: string[] = [];
  let highest = 0;
  /** Sections begun and not yet ended, by holder, with the first other holder's write accepted since. */
  const open = new Map<number, { begin: FencedWrite; intruder: FencedWrite | undefined }>();
  for (const write of accepted) {
    if (write.token < highest) violations.push(`the resource accepted token ${write.token} of holder ${write.holder} after token ${highest}`);
    highest = Math.max(highest, write.token);
    for (const [holder, section] of open) if (holder !== write.holder) section.intruder ??= write;
    if (write.phase === "begin") {
      open.set(write.holder, { begin: write, intruder: undefined });
      continue;
    }
    const section = open.get(write.holder);
    open.delete(write.holder);
    // A holder fenced off by a newer token has its "end" refused: only an accepted one interleaved.
    if (section?.intruder !== undefined) {
      const { begin, intruder } = section;
      violations.push(`holder ${intruder.holder} (token ${intruder.token}) wrote at ${ms(intruder.atMs)} inside holder ${begin.holder}'s critical section (token ${begin.token}, ${ms(begin.atMs)} to ${ms(write.atMs)})`);
    }
  }
  return violations;
}

/** Until when a holder surely held the lock (see 3. above). */
const heldUntil = (h: Holding): number => Math.min(h.releaseCallMs, h.aliveUntilMs - LEASE_MARGIN_MS);

/** Grants whose token is below one already returned to another holder (stale: fenced off, not a violation). */
export function staleGrants(holdings: readonly Holding[]): number {
  let highest = 0;
  let stale = 0;
  for (const h of [...holdings].sort((a, b) => a.lockReturnMs - b.lockReturnMs)) {
    if (h.token < highest) stale++;
    highest = Math.max(highest, h.token);
  }
  return stale;
}

const ms = (t: number): string => (Number.isFinite(t) ? `${(t / 1000).toFixed(3)} s` : "never");
