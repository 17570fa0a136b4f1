// One replica's Raft state machine: terms, roles and elections, and what a follower does with a
// leader's messages. Pure: it reads its storage, never writes it, and talks only through the
// messages, entries and read states it queues for the driver (see raw_node.ts for the contract).
// Term handling happens once, in step(); the rest dispatches by role (etcd-io/raft's shape).
// Replication, commitment, reads and transfer on the leader live in leader.ts.

import { assert, unreachable } from "./assert.js";
import { type RaftConfig, type RaftOptions, resolveConfig } from "./config.js";
import { handleVoteRequest, hup, recordVote, stepStale } from "./election.js";
import { stepCandidate, stepFollower } from "./follower.js";
import { bcastAppend, bcastHeartbeat, leaderCommitAdvanced, tickLeader, leaderRead, leaseValid, stepLeader, syncProgressWithConfiguration, transferLeadership } from "./leader.js";
import { RaftLog } from "./log.js";
import {
  type Configuration,
  ConfigurationHistory,
  configurationOf,
  decodeConfChange,
  encodeConfChange,
  invalidChangeReason,
  isVoter,
} from "./membership.js";
import type { Progress } from "./progress.js";
import { type ProposeResult, type ReadResult, proposeEntries } from "./proposal.js";
import { committedIndex } from "./quorum.js";
import { quiesce, wake } from "./quiescence.js";
import { ReadIndexTracker } from "./read_only.js";
import {
  type ConfChange,
  type Entry,
  type HardState,
  type Message,
  type MsgVote,
  NONE,
  type NodeId,
  type ProposedEntry,
  type ReadState,
  type Role,
} from "./types.js";

const EMPTY = new Uint8Array(0);

export class Raft {
  readonly id: NodeId;
  readonly config: RaftConfig;
  term = 0;
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  role: Role = "follower";
  readonly log: RaftLog;
  /** Every replica uses the newest configuration in its log (§4.1). */
  readonly configs: ConfigurationHistory;
  /** Leader only: what it knows of each member's log, itself included. */
  readonly progress = new Map<NodeId, Progress>();
  /** Candidate only. A candidate's own vote counts only once its hard state is durable. */
  readonly votes = new Map<NodeId, boolean>();

  /** Messages that may leave before this Ready's hard state and entries are durable. */
  msgs: Message[] = [];
  /** Messages that promise durability (acks, granted votes): sent only after the Ready is persisted. */
  msgsAfterPersist: Message[] = [];
  readStates: ReadState[] = [];

  /** Ticks since this replica started: the leader's clock for its lease. */
  ticks = 0;
  electionElapsed = 0;
  heartbeatElapsed = 0;
  /**
   * Ticks since this replica last heard from a live leader (or was one). It starts at 0 on boot: a
   * replica that restarts may have acknowledged a leader's heartbeat just before it went down, and
   * the leader's lease counts on it not voting for anyone else for an election timeout.
   */
  leaderContactElapsed = 0;
  randomizedElectionTimeout = 0;

  /** Leader only: the voter leadership is being handed to. Proposals are dropped meanwhile. */
  leadTransferee: NodeId = NONE;
  /** Leader only: a TimeoutNow went out, so voters may ignore our lease; no lease reads this term. */
  leaseRevoked = false;
  /** Leader only: lease acknowledgements count only from this heartbeat round on (membership changed). */
  leaseMinRound = 0;
  /** Leader only: the index of the last configuration entry it appended, or of its first entry of the term. */
  pendingConfIndex = 0;
  /** Leader only: bytes proposed and not yet applied, against uncommittedBytesMax. */
  uncommittedBytes = 0;
  reads: ReadIndexTracker;
  /** Leader only: reads that arrived before the leader committed an entry of its term (§6.4 step 1). */
  readsAwaitingTermCommit: { context: string; from: NodeId; lease: boolean }[] = [];
  /** Leader only: new entries or a new commit index to broadcast at the next flush (one send per turn). */
  appendsWanted = false;
  /**
   * Idle and not ticking (quiescence.ts): ticks are ignored until a message (other than the leader's
   * quiesce heartbeat), a request or the driver wakes it. Invariant: only a leader or a follower is quiesced.
   */
  quiesced = false;

  constructor(options: RaftOptions) {
    this.config = resolveConfig(options);
    this.id = this.config.id;
    this.log = new RaftLog(this.config.storage);
    this.reads = new ReadIndexTracker(this.config.pendingReadsMax);
    const { hardState, confState } = this.config.storage.initialState();
    const base = this.config.storage.firstIndex() - 1;
    this.configs = new ConfigurationHistory(base, configurationOf(confState));
    this.replayConfigurationEntries(base + 1);
    if (hardState.commit > 0) {
      assert(hardState.commit <= this.log.lastIndex(), () => `hard state commit ${hardState.commit} is beyond the log's last index ${this.log.lastIndex()}`);
      this.log.commitTo(hardState.commit);
    }
    if (this.config.applied > 0) this.log.appliedTo(Math.max(this.config.applied, this.log.applied));
    this.becomeFollower(hardState.term, NONE);
    this.vote = hardState.vote;
  }

  // ---- The driver's inputs -------------------------------------------------------------------

  tick(): void {
    if (this.quiesced) return;
    this.ticks++;
    if (this.role === "leader") {
      tickLeader(this);
      return;
    }
    this.electionElapsed++;
    this.leaderContactElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      hup(this, false);
    }
  }

  step(m: Message): void {
    if (this.quiesced && !(m.type === "heartbeat" && m.quiesce === true)) wake(this, m.from);
    if (m.term > this.term && m.term !== 0) {
      if ((m.type === "vote" || m.type === "preVote") && !m.transfer && this.inLeaderContact()) {
        // §4.2.3: we heard from a live leader within the minimum election timeout; a candidate that
        // did not is disruptive (a removed or partitioned server). Not answering also keeps our lease promise.
        return;
      }
      if (m.type === "preVote" || (m.type === "preVoteResp" && !m.reject)) {
        // A pre-vote does not change anyone's term: the candidate asks for term+1 without taking it.
      } else if (m.type === "app" || m.type === "heartbeat" || m.type === "snap") {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term && m.term !== 0) {
      stepStale(this, m);
      return;
    }

    switch (m.type) {
      case "vote":
      case "preVote":
        handleVoteRequest(this, m);
        return;
      default:
        break;
    }
    switch (this.role) {
      case "leader":
        stepLeader(this, m);
        return;
      case "candidate":
      case "preCandidate":
        stepCandidate(this, m);
        return;
      case "follower":
        stepFollower(this, m);
        return;
      default:
        unreachable(this.role);
    }
  }

  propose(data: readonly Uint8Array[]): ProposeResult {
    wake(this, NONE);
    return proposeEntries(this, data.map((d) => ({ type: "normal", data: d })));
  }

  proposeConfChange(change: ConfChange): ProposeResult {
    wake(this, NONE);
    if (this.role === "leader") {
      const blocked = this.confChangeBlockedReason();
      if (blocked !== undefined) return { kind: "dropped", reason: "confChangePending", message: blocked };
      const invalid = invalidChangeReason(this.configs.current(), change);
      if (invalid !== undefined) return { kind: "dropped", reason: "invalidConfChange", message: invalid };
    }
    return proposeEntries(this, [{ type: "confChange", data: encodeConfChange(change) }]);
  }

  /**
   * Asks for a linearizable read. When it is safe, a ReadState with `context` appears in a Ready:
   * serve the read once the state machine has applied its index. With `lease`, a leader whose lease
   * holds answers without a round trip. The driver must have delivered every tick that is due by its
   * clock first: a leader that was paused must see that its lease ran out.
   * A read that meets a change of leader (or whose message is lost) is dropped silently, as in
   * etcd-io/raft: the driver asks again, with this context or a new one, when the leader or term
   * changes and when no answer came in time. That is safe because an answer only ever comes from a
   * leader that committed an entry of its term and confirmed its leadership after the request came.
   */
  readIndex(context: string, lease: boolean): ReadResult {
    wake(this, NONE);
    if (this.role === "leader") {
      return leaderRead(this, context, this.id, lease)
        ? { kind: "accepted" }
        : { kind: "dropped", reason: "readQueueFull", message: `more than ${this.config.pendingReadsMax} reads are waiting for a heartbeat round` };
    }
    if (this.lead === NONE) return { kind: "dropped", reason: "noLeader", message: "no leader is known for this group" };
    this.send({ type: "readIndex", from: this.id, to: this.lead, term: 0, context, lease });
    return { kind: "accepted" };
  }

  /** Hands leadership to `transferee` (§3.10). Followers pass the request on to the leader. */
  transferLeader(transferee: NodeId): void {
    wake(this, NONE);
    if (this.role === "leader") {
      transferLeadership(this, transferee);
    } else if (this.lead !== NONE) {
      this.send({ type: "transferLeader", from: this.id, to: this.lead, term: 0, transferee });
    }
  }

  /** The driver could not deliver a snapshot (or did): the leader resumes probing the follower. */
  reportSnapshot(to: NodeId, delivered: boolean): void {
    const pr = this.progress.get(to);
    if (this.role !== "leader" || pr === undefined || pr.state !== "snapshot") return;
    // On success the follower's answer moves it on; on failure retry from what we know matches.
    if (!delivered) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    // Wait for the next heartbeat answer before probing, as after any probe.
    pr.probeSent = true;
  }

  /** The driver lost the connection to `to`: stop pipelining to it until it answers again. */
  reportUnreachable(to: NodeId): void {
    const pr = this.progress.get(to);
    if (this.role === "leader" && pr !== undefined && pr.state === "replicate") pr.becomeProbe();
  }

  /** Entries up to (index, term) and the hard state `hardState` are durable (called from advance()). */
  onPersisted(index: number, term: number, hardState: HardState | undefined): void {
    if (this.role === "leader" && index > 0 && this.log.matchTerm(index, term)) {
      const self = this.progress.get(this.id);
      if (self !== undefined && self.maybeUpdate(index) && this.maybeCommit()) this.appendsWanted = true;
    }
    if (this.role === "candidate" && hardState !== undefined && hardState.term === this.term && hardState.vote === this.id) {
      recordVote(this, this.id, true);
    }
  }

  /** The state machine applied these entries (called from advance()). */
  onApplied(entries: readonly Entry[]): void {
    if (this.role !== "leader" || this.config.uncommittedBytesMax === 0) return;
    let bytes = 0;
    for (const e of entries) bytes += e.data.byteLength;
    this.uncommittedBytes = Math.max(0, this.uncommittedBytes - bytes);
  }

  /** Sends what the last steps left to broadcast: one append per follower and one heartbeat round per turn. */
  flush(): void {
    if (this.role !== "leader") return;
    if (this.reads.roundWanted) bcastHeartbeat(this);
    if (this.appendsWanted) {
      this.appendsWanted = false;
      bcastAppend(this);
    }
  }

  /** Leader: goes quiet if the group is idle and every member caught up (quiescence.ts); returns whether it did. */
  quiesce(): boolean {
    return quiesce(this);
  }

  /** Wakes a quiesced replica: the driver's word that it must tick again (its leader's node fell silent). */
  wake(): void {
    wake(this, NONE);
  }

  /** Whether a lease read asked now would be answered without a round trip. */
  leaseReadable(): boolean {
    return this.role === "leader" && this.committedEntryInCurrentTerm() && leaseValid(this);
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  currentConfiguration(): Configuration {
    return this.configs.current();
  }

  /** Whether this replica may campaign: a voter in its newest configuration. */
  promotable(): boolean {
    return isVoter(this.configs.current(), this.id);
  }

  // ---- Rules that the simulator's tests break on purpose (deliberately overridable) ---------

  /**
   * §5.4.2: a leader commits by counting replicas only entries of its own term; earlier entries
   * commit with them (Figure 8 shows what goes wrong otherwise).
   */
  maybeCommit(): boolean {
    const candidate = committedIndex(this.configs.current().voters, (id) => this.progress.get(id)?.match ?? 0);
    if (candidate <= this.log.committed || this.log.term(candidate) !== this.term) return false;
    this.log.commitTo(candidate);
    this.onCommitAdvanced();
    return true;
  }

  /** §6.4: until it commits an entry of its term, a new leader may not know the latest commit index. */
  committedEntryInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  /** §5.4.1: grant a vote only to a candidate whose log holds everything ours does. */
  candidateLogIsUpToDate(m: MsgVote): boolean {
    return this.log.isUpToDate(m.index, m.logTerm);
  }

  /** How long a quorum's acknowledgement keeps the lease, in this leader's ticks. */
  leaseTicks(): number {
    return this.config.electionTicks - this.config.clockDriftTicks;
  }

  /**
   * Single-server changes are safe only one at a time, and only once the leader has committed an
   * entry of its own term (the fix for the bug Ongaro reported on raft-dev in 2015): until then an
   * uncommitted change from an earlier leader may still be in the logs of others.
   */
  confChangeBlockedReason(): string | undefined {
    if (this.pendingConfIndex > this.log.committed) {
      return this.committedEntryInCurrentTerm()
        ? `a configuration change at index ${this.pendingConfIndex} is not committed yet; retry when it is`
        : "the leader has not committed an entry of its term yet; retry in a moment";
    }
    return undefined;
  }

  /** The leader appends entries of its term (proposals and its first, empty entry). */
  appendEntries(proposed: readonly ProposedEntry[]): Entry[] {
    let index = this.log.lastIndex();
    const entries = proposed.map((p): Entry => ({ term: this.term, index: ++index, type: p.type, data: p.data }));
    this.appendToLog(entries);
    this.appendsWanted = true;
    return entries;
  }

  // ---- Roles -------------------------------------------------------------------------------

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.role = "follower";
  }

  becomePreCandidate(): void {
    assert(this.role !== "leader", "a leader cannot become a pre-candidate");
    // Neither term nor vote changes: a pre-election that fails must leave no trace.
    this.votes.clear();
    this.lead = NONE;
    this.role = "preCandidate";
  }

  becomeCandidate(): void {
    assert(this.role !== "leader", "a leader cannot become a candidate");
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = "candidate";
  }

  becomeLeader(): void {
    assert(this.role === "candidate", () => `only a candidate becomes leader, not a ${this.role}`);
    this.reset(this.term);
    this.lead = this.id;
    this.role = "leader";
    this.leaderContactElapsed = 0;
    syncProgressWithConfiguration(this);
    const self = this.progress.get(this.id);
    if (self !== undefined) self.maybeUpdate(this.stableLastIndex());
    // §6.4 and §8: an empty entry of the new term lets the leader find out what is committed.
    const [noop] = this.appendEntries([{ type: "normal", data: EMPTY }]);
    this.pendingConfIndex = noop!.index;
  }

  private reset(term: number): void {
    if (term !== this.term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    // A new role or term is never quiet: the follower's quiesce heartbeat may quiesce it again.
    this.quiesced = false;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.config.electionTicks + this.config.random.int(this.config.electionTicks);
    this.leadTransferee = NONE;
    this.leaseRevoked = false;
    this.leaseMinRound = 0;
    this.votes.clear();
    this.progress.clear();
    this.reads = new ReadIndexTracker(this.config.pendingReadsMax);
    this.readsAwaitingTermCommit = [];
    this.appendsWanted = false;
    this.uncommittedBytes = 0;
    this.pendingConfIndex = 0;
  }

  private inLeaderContact(): boolean {
    return this.config.checkQuorum && this.leaderContactElapsed < this.config.electionTicks;
  }

  // ---- Shared helpers ----------------------------------------------------------------------

  /** Appends to the log and keeps the configuration history in step with it. */
  appendToLog(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    this.configs.truncateFrom(entries[0]!.index);
    this.log.append(entries);
    let changed = false;
    for (const e of entries) {
      if (e.type !== "confChange") continue;
      this.configs.append(e.index, decodeConfChange(e.data));
      if (this.role === "leader") this.pendingConfIndex = e.index;
      changed = true;
    }
    if (changed && this.role === "leader") syncProgressWithConfiguration(this);
  }

  /** Leader only: what follows a new commit index (reads that waited, stepping down once removed). */
  onCommitAdvanced(): void {
    leaderCommitAdvanced(this);
  }

  /** The last index known to be durable here: storage, unless the unstable tail replaced part of it. */
  stableLastIndex(): number {
    if (this.log.unstable.snapshot !== undefined) return 0;
    return Math.min(this.config.storage.lastIndex(), this.log.unstable.offset - 1);
  }

  send(m: Message): void {
    this.msgs.push(m);
  }

  sendAfterPersist(m: Message): void {
    this.msgsAfterPersist.push(m);
  }

  /** Rebuilds the configuration history from the durable log on start-up. */
  private replayConfigurationEntries(from: number): void {
    const last = this.log.lastIndex();
    for (let lo = from; lo <= last; ) {
      const batch = this.log.slice(lo, last + 1, 4 * 1024 * 1024);
      for (const e of batch) if (e.type === "confChange") this.configs.append(e.index, decodeConfChange(e.data));
      lo += batch.length;
    }
  }
}
