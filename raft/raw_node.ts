// The driver's handle on one Raft group. The contract, for every Ready:
//   1. take `ready()` when `hasReady()`;
//   2. send `messages` at once: they depend on nothing this Ready persists (the leader's appends and
//      heartbeats, vote requests), which lets a leader write its log while followers write theirs (§10.2.1);
//   3. persist `hardState`, `entries` (replacing any conflicting suffix) and `snapshot`, and sync if `mustSync`;
//   4. then send `persistedMessages` (acknowledgements and granted votes promise durability);
//   5. apply `committedEntries` in order (install `snapshot` first, if any), serve `readStates`
//      once the state machine has applied their index;
//   6. call `advance()`. Only then do the leader's own copy of the entries and a candidate's own vote
//      count towards a quorum (counting them earlier is etcd-io/etcd#14370).
// A driver may pipeline: take further Readies before advancing earlier ones (each holds only what is
// new since the last one), as long as it persists them, and then advances them, in the order taken.
// Meanwhile it may keep calling tick(), step() and the proposal methods.

import { assert } from "./assert.js";
import { campaign } from "./election.js";
import type { Configuration } from "./membership.js";
import type { ProposeResult, ReadResult } from "./proposal.js";
import type { Raft } from "./raft.js";
import type { ConfChange, ConfState, Entry, HardState, Message, NodeId, ReadState, Snapshot, SoftState } from "./types.js";

export interface Ready {
  readonly softState: SoftState | undefined;
  readonly hardState: HardState | undefined;
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | undefined;
  readonly messages: readonly Message[];
  readonly persistedMessages: readonly Message[];
  readonly committedEntries: readonly Entry[];
  readonly readStates: readonly ReadState[];
  /** Whether the persisted part must be synced to disk before persistedMessages go out. */
  readonly mustSync: boolean;
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId;
  readonly lead: NodeId;
  readonly role: SoftState["role"];
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly configuration: Configuration;
  /** Leader only: each member's match index. */
  readonly matches: ReadonlyMap<NodeId, number>;
}

export class RawNode {
  /** The hard state in the last Ready handed out (or the initial one). */
  private prevHardState: HardState;
  private prevSoftState: SoftState;
  /** Readies handed out and not yet advanced, oldest first. */
  private readonly outstanding: Ready[] = [];

  constructor(readonly raft: Raft) {
    this.prevHardState = raft.hardState();
    this.prevSoftState = { lead: raft.lead, role: raft.role };
  }

  tick(): void {
    this.raft.tick();
  }

  step(message: Message): void {
    this.raft.step(message);
  }

  propose(data: readonly Uint8Array[]): ProposeResult {
    return this.raft.propose(data);
  }

  proposeConfChange(change: ConfChange): ProposeResult {
    return this.raft.proposeConfChange(change);
  }

  readIndex(context: string, lease: boolean): ReadResult {
    return this.raft.readIndex(context, lease);
  }

  transferLeader(transferee: NodeId): void {
    this.raft.transferLeader(transferee);
  }

  reportSnapshot(to: NodeId, delivered: boolean): void {
    this.raft.reportSnapshot(to, delivered);
  }

  reportUnreachable(to: NodeId): void {
    this.raft.reportUnreachable(to);
  }

  /** Leader: stops ticking if the group is idle and every member caught up (quiescence.ts). Returns whether it did. */
  quiesce(): boolean {
    return this.raft.quiesce();
  }

  /** Wakes a quiesced replica; the driver calls it when the leader's node fell silent (quiescence.ts). */
  wake(): void {
    this.raft.wake();
  }

  get quiesced(): boolean {
    return this.raft.quiesced;
  }

  /** Starts an election now (tests and operators; the timer does it otherwise). */
  campaign(): void {
    this.raft.wake();
    if (this.raft.role !== "leader" && this.raft.promotable()) campaign(this.raft, this.raft.config.preVote ? "preElection" : "election", false);
  }

  /** How many Readies were handed out and not yet advanced. */
  outstandingCount(): number {
    return this.outstanding.length;
  }

  hasReady(): boolean {
    const r = this.raft;
    r.flush();
    const hs = r.hardState();
    const unstable = r.log.unstable;
    return (
      r.msgs.length > 0 ||
      r.msgsAfterPersist.length > 0 ||
      r.readStates.length > 0 ||
      unstable.offsetInProgress < unstable.offset + unstable.entries.length ||
      unstable.snapshotToPersist() !== undefined ||
      r.log.hasNextCommittedEntries() ||
      !sameHardState(hs, this.prevHardState) ||
      r.lead !== this.prevSoftState.lead ||
      r.role !== this.prevSoftState.role
    );
  }

  ready(): Ready {
    const r = this.raft;
    r.flush();
    const hs = r.hardState();
    const softChanged = r.lead !== this.prevSoftState.lead || r.role !== this.prevSoftState.role;
    const hardChanged = !sameHardState(hs, this.prevHardState);
    const entries = r.log.unstable.entriesToPersist();
    const snapshot = r.log.unstable.snapshotToPersist();
    const ready: Ready = {
      softState: softChanged ? { lead: r.lead, role: r.role } : undefined,
      hardState: hardChanged ? hs : undefined,
      entries,
      snapshot,
      messages: r.msgs,
      persistedMessages: r.msgsAfterPersist,
      committedEntries: snapshot === undefined ? r.log.takeCommittedEntries(r.config.committedBytesPerReadyMax) : [],
      readStates: r.readStates,
      mustSync: entries.length > 0 || snapshot !== undefined || hs.term !== this.prevHardState.term || hs.vote !== this.prevHardState.vote,
    };
    r.msgs = [];
    r.msgsAfterPersist = [];
    r.readStates = [];
    r.log.unstable.acceptInProgress();
    if (ready.softState !== undefined) this.prevSoftState = ready.softState;
    if (ready.hardState !== undefined) this.prevHardState = ready.hardState;
    this.outstanding.push(ready);
    return ready;
  }

  /** The oldest outstanding Ready is persisted, sent and applied. */
  advance(): void {
    const ready = this.outstanding.shift();
    assert(ready !== undefined, "advance() without an outstanding Ready");
    const r = this.raft;
    if (ready.snapshot !== undefined) {
      r.log.unstable.stableSnapshotTo(ready.snapshot.meta.index);
      r.log.appliedTo(ready.snapshot.meta.index);
    }
    const last = ready.entries[ready.entries.length - 1];
    if (last !== undefined) r.log.unstable.stableTo(last.index, last.term);
    const lastApplied = ready.committedEntries[ready.committedEntries.length - 1];
    if (lastApplied !== undefined) {
      r.log.appliedTo(lastApplied.index);
      r.onApplied(ready.committedEntries);
    }
    r.onPersisted(last?.index ?? 0, last?.term ?? 0, ready.hardState);
  }

  /** The membership in force at `index` (for a snapshot taken there). */
  confStateAt(index: number): ConfState {
    const c = this.raft.configs.at(index);
    return { voters: c.voters, learners: c.learners };
  }

  status(): RaftStatus {
    const r = this.raft;
    const matches = new Map<NodeId, number>();
    for (const [id, pr] of r.progress) matches.set(id, pr.match);
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      lead: r.lead,
      role: r.role,
      commit: r.log.committed,
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      configuration: r.currentConfiguration(),
      matches,
    };
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
