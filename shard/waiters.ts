// Clients waiting on one replica: proposals waiting for their entry to apply, and linearizable reads
// waiting first for a read index and then for the state machine to reach it (read_waiters.ts). Every
// waiter has a deadline; nothing waits forever on a leader that went away.

import type { ApplyResult } from "./mvcc/index.js";
import { ReadWaiters } from "./read_waiters.js";
import { StoreError } from "./store_error.js";

interface ProposalWaiter {
  readonly resolve: (result: ApplyResult) => void;
  readonly reject: (error: Error) => void;
  readonly deadlineMs: number;
}

export class Waiters {
  private readonly proposals = new Map<bigint, ProposalWaiter>();
  /**
   * Where this replica, as leader, appended each proposal's entry (two parallel queues, oldest from
   * `placedHead`): a different entry applied there means the proposal was lost. Invariant: indexes
   * increase along the queue (a leader appends after its last entry; appending lower means the log
   * was cut, see `placed`), so an apply looks only at the front: nothing is O(pending) per apply.
   */
  private placedIndexes: number[] = [];
  private placedIds: bigint[] = [];
  private placedHead = 0;
  readonly reads: ReadWaiters;

  constructor(readRetryTicks?: number) {
    this.reads = new ReadWaiters(readRetryTicks);
  }

  get proposalCount(): number {
    return this.proposals.size;
  }

  get readCount(): number {
    return this.reads.count;
  }

  /** Whether a proposal still waits (it has not applied, failed or passed its deadline). */
  isWaiting(requestId: bigint): boolean {
    return this.proposals.has(requestId);
  }

  addProposal(requestId: bigint, deadlineMs: number): Promise<ApplyResult> {
    return new Promise((resolve, reject) => {
      this.proposals.set(requestId, { resolve, reject, deadlineMs });
    });
  }

  placed(requestId: bigint, index: number): void {
    if (!this.proposals.has(requestId)) return;
    // Appending at or below an index placed before: a newer leader's log cut ours there, and entries
    // cut from a leader's own log were never committed (Raft §5.4), so those proposals are lost.
    while (this.placedIndexes.length > this.placedHead && this.placedIndexes[this.placedIndexes.length - 1]! >= index) {
      this.placedIndexes.pop();
      this.lose(this.placedIds.pop()!);
    }
    this.placedIndexes.push(index);
    this.placedIds.push(requestId);
  }

  /** Fails a proposal whose entry was replaced (if it still waits: the error is made only then). */
  private lose(requestId: bigint): void {
    if (this.proposals.has(requestId)) {
      this.failProposal(requestId, StoreError.unavailable("etcdserver: leader changed", "the entry was replaced by a new leader's log and did not apply; retry"));
    }
  }

  /** Proposals this replica forwarded to its leader; their fate is known only if they apply here. */
  private forwardedIds = new Set<bigint>();

  forwarded(requestId: bigint): void {
    if (this.proposals.has(requestId)) this.forwardedIds.add(requestId);
  }

  /** Proposals forwarded to a leader that has changed since, and the term whose first applied entry settles them. */
  private doubtful: { readonly ids: Set<bigint>; readonly settledAtTerm: number } | undefined;

  /**
   * The leader changed, in `term`: what was forwarded to the old one may still apply (a leader
   * transfer hands every entry the old leader appended to the new one), so it keeps waiting until
   * `settle` sees an entry of `term` or later apply. etcd waits for the apply as well: answering
   * "leader changed" for an entry that then applies makes clients that retry it (etcd3's Lock txn)
   * apply it twice.
   */
  leaderChanged(term: number): void {
    if (this.forwardedIds.size === 0) return;
    const ids = this.doubtful?.ids ?? new Set<bigint>();
    for (const id of this.forwardedIds) ids.add(id);
    this.forwardedIds = new Set();
    this.doubtful = { ids, settledAtTerm: term };
  }

  /**
   * An entry of `appliedTerm` applied. A new leader's log starts its term with an entry of its own,
   * after every older entry it kept, so once one of the new term applies, a doubtful proposal still
   * waiting was lost on the way (a forward to a dead leader): it fails now rather than at its
   * deadline, its outcome unknown.
   */
  settle(appliedTerm: number, error: () => Error): void {
    const doubtful = this.doubtful;
    if (doubtful === undefined || appliedTerm < doubtful.settledAtTerm) return;
    this.doubtful = undefined;
    const failure = error();
    for (const id of doubtful.ids) this.failProposal(id, failure);
  }

  failProposal(requestId: bigint, error: Error): void {
    this.forwardedIds.delete(requestId);
    const waiter = this.proposals.get(requestId);
    if (waiter === undefined) return;
    this.proposals.delete(requestId);
    waiter.reject(error);
  }

  /** Answers the waiters of applied entries, and fails those whose entry was replaced by another. */
  applied(results: readonly ApplyResult[]): void {
    for (const result of results) {
      const mine = this.proposals.get(result.requestId);
      if (mine !== undefined && result.requestId !== 0n) {
        this.proposals.delete(result.requestId);
        if (this.forwardedIds.size > 0) this.forwardedIds.delete(result.requestId);
        mine.resolve(result);
      }
    }
    const last = results[results.length - 1];
    if (last === undefined) return;
    // Proposals placed at an index that applied and still waiting: another entry took their place.
    const indexes = this.placedIndexes;
    let head = this.placedHead;
    for (; head < indexes.length && indexes[head]! <= last.index; head++) this.lose(this.placedIds[head]!);
    if (head === indexes.length) {
      indexes.length = 0;
      this.placedIds.length = 0;
      head = 0;
    } else if (head > 1024 && head * 2 > indexes.length) {
      this.placedIndexes = indexes.slice(head);
      this.placedIds = this.placedIds.slice(head);
      head = 0;
    }
    this.placedHead = head;
  }

  /** Fails every waiter whose deadline passed. */
  expire(nowMs: number): void {
    this.reads.expire(nowMs, () => StoreError.unavailable("etcdserver: request timed out", "no leader confirmed this read in time; retry"));
    // Every replica's every tick comes here; most have no proposal waiting.
    if (this.proposals.size === 0) return;
    const timedOut = () => StoreError.unavailable("etcdserver: request timed out", "the shard did not answer in time; a write may still apply");
    for (const [id, waiter] of this.proposals) {
      if (waiter.deadlineMs <= nowMs) {
        this.proposals.delete(id);
        this.forwardedIds.delete(id);
        waiter.reject(timedOut());
      }
    }
  }

  /** Fails everything: the replica is closing or the node stops. */
  failAll(error: Error): void {
    this.forwardedIds.clear();
    this.doubtful = undefined;
    for (const waiter of this.proposals.values()) waiter.reject(error);
    this.proposals.clear();
    this.placedIndexes = [];
    this.placedIds = [];
    this.placedHead = 0;
    this.reads.failAll(error);
  }
}

