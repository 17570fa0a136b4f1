// Raft's safety properties (Figure 3 of the Raft paper), checked after every simulated event:
// election safety, leader append-only, log matching, leader completeness and state-machine safety,
// plus the lease's own promise. A violation throws; the simulator reports the seed and the trace.

import type { Entry, NodeId, Raft } from "../../raft/index.js";

export class InvariantViolation extends Error {
  override readonly name = "InvariantViolation";
}

function fail(message: string): never {
  throw new InvariantViolation(message);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class InvariantChecker {
  /** Election safety: the one leader of each term. */
  private readonly leaders = new Map<number, NodeId>();
  /** State-machine safety: the entry applied at each index, by whoever applied it first. */
  private readonly appliedAt = new Map<number, Entry>();
  private maxApplied = 0;
  /** Leader append-only: each current leader's last entry when last seen. */
  private readonly leaderTails = new Map<NodeId, { term: number; index: number; entryTerm: number }>();
  leaderElections = 0;

  /**
   * Call after every event with every replica that is running, and those of them that are not
   * paused: a paused leader's frozen clock says nothing until it wakes and catches up.
   */
  afterEvent(rafts: readonly Raft[], awake: readonly Raft[]): void {
    for (const r of rafts) {
      if (r.role !== "leader") {
        this.leaderTails.delete(r.id);
        continue;
      }
      const known = this.leaders.get(r.term);
      if (known === undefined) {
        this.leaders.set(r.term, r.id);
        this.leaderElections++;
        this.checkLeaderCompleteness(r);
      } else if (known !== r.id) {
        fail(`election safety: nodes ${known} and ${r.id} both led term ${r.term}`);
      }
      this.checkAppendOnly(r);
    }
    // The lease's promise does not wait for a client to ask: at no moment may a leader hold a
    // lease while another leader of a later term exists or existed.
    for (const r of awake) if (r.role === "leader" && r.leaseReadable()) this.checkLeaseRead(r, rafts);
  }

  /** Every entry any replica applies must be the one every other replica applies at that index. */
  onApplied(node: NodeId, entry: Entry): void {
    const first = this.appliedAt.get(entry.index);
    if (first === undefined) {
      this.appliedAt.set(entry.index, entry);
      this.maxApplied = Math.max(this.maxApplied, entry.index);
      return;
    }
    if (first.term !== entry.term || first.type !== entry.type || !sameBytes(first.data, entry.data)) {
      fail(`state-machine safety: node ${node} applied (term ${entry.term}) at index ${entry.index}, another replica applied (term ${first.term}) there`);
    }
  }

  /** A new leader's log holds every entry applied anywhere (§5.4.3). */
  private checkLeaderCompleteness(r: Raft): void {
    const first = r.log.firstIndex();
    for (let i = Math.max(first, 1); i <= this.maxApplied; i++) {
      const applied = this.appliedAt.get(i);
      if (applied === undefined) continue;
      const term = r.log.term(i);
      if (term !== applied.term) {
        fail(`leader completeness: node ${r.id}, leader of term ${r.term}, has term ${term ?? "none"} at index ${i}, where term ${applied.term} was applied`);
      }
    }
  }

  /** A leader never overwrites or deletes entries in its log (§5.3). */
  private checkAppendOnly(r: Raft): void {
    const last = r.log.lastIndex();
    const tail = this.leaderTails.get(r.id);
    if (tail !== undefined && tail.term === r.term) {
      if (last < tail.index) fail(`leader append-only: leader ${r.id} of term ${r.term} shrank its log from ${tail.index} to ${last}`);
      const term = r.log.term(tail.index);
      if (term !== undefined && term !== tail.entryTerm) {
        fail(`leader append-only: leader ${r.id} of term ${r.term} rewrote index ${tail.index} (term ${tail.entryTerm} -> ${term})`);
      }
    }
    this.leaderTails.set(r.id, { term: r.term, index: last, entryTerm: r.log.lastTerm() });
  }

  /**
   * Log matching (§5.3): if two logs hold an entry with the same index and term, they are identical up
   * to it. Quadratic in replicas and linear in log length, so the simulator runs it periodically.
   */
  checkLogMatching(rafts: readonly Raft[]): void {
    for (let a = 0; a < rafts.length; a++) {
      for (let b = a + 1; b < rafts.length; b++) {
        const x = rafts[a]!;
        const y = rafts[b]!;
        const lo = Math.max(x.log.firstIndex(), y.log.firstIndex());
        const hi = Math.min(x.log.lastIndex(), y.log.lastIndex());
        // Find the highest index where both logs agree on the term; everything below must agree too.
        let top = hi;
        while (top >= lo && x.log.term(top) !== y.log.term(top)) top--;
        if (top < lo) continue;
        const xs = x.log.slice(lo, top + 1, Number.MAX_SAFE_INTEGER);
        const ys = y.log.slice(lo, top + 1, Number.MAX_SAFE_INTEGER);
        for (let i = 0; i < xs.length; i++) {
          const e = xs[i]!;
          const f = ys[i]!;
          if (e.term !== f.term || !sameBytes(e.data, f.data)) {
            fail(`log matching: nodes ${x.id} and ${y.id} agree at index ${top} but differ at ${e.index} (terms ${e.term}, ${f.term})`);
          }
        }
      }
    }
  }

  /** A leader serving a read on its lease must be the only leader there is (§6.4.1). */
  checkLeaseRead(reader: Raft, rafts: readonly Raft[]): void {
    for (const r of rafts) {
      if (r.role === "leader" && r.term > reader.term) {
        fail(`lease violation: node ${reader.id} served a lease read in term ${reader.term} while node ${r.id} led term ${r.term}`);
      }
    }
    for (const [term, leader] of this.leaders) {
      if (term > reader.term) {
        fail(`lease violation: node ${reader.id} served a lease read in term ${reader.term} after node ${leader} was elected in term ${term}`);
      }
    }
  }
}
