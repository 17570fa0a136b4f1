// Deliberately broken Raft replicas, each breaking one rule the real core keeps, to show that the
// simulator finds what it claims to guard against. Test code only: the core has no bug switches;
// each variant overrides the one method that carries the rule.

import { Raft, type MsgVote, type ProposedEntry, type Entry } from "../../raft/index.js";
import type { SimOptions } from "./options.js";

export interface BrokenVariant {
  readonly name: string;
  /** The rule it breaks, and where the right rule comes from. */
  readonly breaks: string;
  readonly options: Partial<SimOptions>;
}

/** A new leader serves ReadIndex before committing an entry of its term (Redis-Raft's stale reads). */
class ReadIndexBeforeTermCommit extends Raft {
  override committedEntryInCurrentTerm(): boolean {
    return true;
  }
}

/**
 * The leader commits an entry of an earlier term by counting replicas (Raft paper, Figure 8). Its
 * consequence needs three short-lived leaders in a row, each losing what it sent: leader churn finds it.
 */
export class CommitsEarlierTerms extends Raft {
  override maybeCommit(): boolean {
    const voters = this.currentConfiguration().voters;
    const matches = voters.map((id) => this.progress.get(id)?.match ?? 0).sort((a, b) => b - a);
    const index = matches[Math.floor(matches.length / 2)] ?? 0;
    if (index <= this.log.committed) return false;
    this.log.commitTo(index);
    this.onCommitAdvanced();
    return true;
  }
}

/** Votes for any candidate, whatever its log (§5.4.1's up-to-date check left out). */
class VotesWithoutLogCheck extends Raft {
  override candidateLogIsUpToDate(_m: MsgVote): boolean {
    return true;
  }
}

/** Holds the lease for the whole election timeout: no margin for clock drift or tick rounding. */
class LeaseWithoutDriftMargin extends Raft {
  override leaseTicks(): number {
    return this.config.electionTicks;
  }
}

/** Counts its own append and its own vote before they are durable (etcd-io/etcd#14370). */
class CountsSelfBeforePersist extends Raft {
  override appendEntries(proposed: readonly ProposedEntry[]): Entry[] {
    const entries = super.appendEntries(proposed);
    this.progress.get(this.id)?.maybeUpdate(this.log.lastIndex());
    if (this.role === "leader" && this.maybeCommit()) this.appendsWanted = true;
    return entries;
  }

  override becomeCandidate(): void {
    super.becomeCandidate();
    this.votes.set(this.id, true);
  }
}

/**
 * Starts a configuration change before committing an entry of its term (Ongaro, raft-dev 2015). Its
 * consequence needs two leaders' voter changes to race on the two sides of a partition.
 */
export class ChangesConfigBeforeTermCommit extends Raft {
  override confChangeBlockedReason(): string | undefined {
    // Only the leader's own previous change is waited for; what earlier leaders left is ignored.
    return this.pendingConfIndex > this.log.committed && this.log.term(this.pendingConfIndex) === this.term && this.pendingConfIndexIsConf()
      ? "a configuration change is pending"
      : undefined;
  }

  private pendingConfIndexIsConf(): boolean {
    return this.configs.currentIndex() === this.pendingConfIndex;
  }
}

const make = (Variant: typeof Raft): Pick<SimOptions, "makeRaft"> => ({ makeRaft: (options) => new Variant(options) });

export const BROKEN_VARIANTS: readonly BrokenVariant[] = [
  { name: "ReadIndex before an entry of the term commits", breaks: "§6.4 step 1", options: { ...make(ReadIndexBeforeTermCommit), leaseReadShare: 0 } },
  { name: "granting a vote without the up-to-date log check", breaks: "§5.4.1", options: make(VotesWithoutLogCheck) },
  { name: "a lease with no clock-drift margin", breaks: "§6.4.1", options: make(LeaseWithoutDriftMargin) },
  { name: "counting the leader's own ack or vote before it is persisted", breaks: "etcd-io/etcd#14370", options: { ...make(CountsSelfBeforePersist), pipelineDepth: 4 } },
  // These two are run with only the faults that reach their rule: in the full mix of faults, their
  // schedules come up less often than once in 500 seeds.
  { name: "committing an earlier term's entry by counting replicas", breaks: "§5.4.2, Figure 8", options: { ...make(CommitsEarlierTerms), faults: ["churn"] } },
  { name: "a configuration change before an entry of the term commits", breaks: "Ongaro, raft-dev 2015", options: { ...make(ChangesConfigBeforeTermCommit), faults: ["membership"] } },
];
