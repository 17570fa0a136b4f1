// One replica's Raft state machine: terms, roles and elections, and what a follower does with a
// leader's messages. Pure: it reads its storage, never writes it, and talks only through the
// messages, entries and read states it queues for the driver (see raw_node.ts for the contract).
// Term handling happens once, in step(); the rest dispatches by role (etcd-io/raft's shape).
// Replication, commitment, reads and transfer on the leader live in leader.ts.

import { assert, unreachable } from "./assert.js";
import { type RaftConfig, type RaftOptions, resolveConfig } from "./config.js";
import {
  bcastAppend,
  bcastHeartbeat,
  leaderRead,
  leaseValid,
  releaseConfirmedReads,
  sendTimeoutNow,
  stepLeader,
  transferLeadership,
} from "./leader.js";
import { RaftLog } from "./log.js";
import {
  type Configuration,
  ConfigurationHistory,
  configurationOf,
  decodeConfChange,
  encodeConfChange,
  invalidChangeReason,
  isMember,
  isVoter,
} from "./membership.js";
import { Progress } from "./progress.js";
import { committedIndex, quorumSize, voteResult } from "./quorum.js";
import { ReadIndexTracker } from "./read_only.js";
import {
  type ConfChange,
  type Entry,
  type HardState,
  type Message,
  type MsgApp,
  type MsgHeartbeat,
  type MsgSnap,
  type MsgVote,
  NONE,
  type NodeId,
  type ProposedEntry,
  type ReadState,
  type Role,
} from "./types.js";

/**
 * What became of a proposal. The rules, in one place:
 * - on the leader it is appended (unless a transfer is under way or the uncommitted limit is hit);
 * - on a follower that knows the leader it is forwarded, and the caller learns its fate only by
 *   watching for the entry to apply (a forwarded proposal that meets no leader is dropped silently);
 * - without a known leader, or with forwarding disabled, it is dropped at once.
 */
export type ProposeResult =
  | { readonly kind: "appended"; readonly firstIndex: number; readonly lastIndex: number; readonly term: number }
  | { readonly kind: "forwarded"; readonly to: NodeId }
  | { readonly kind: "dropped"; readonly reason: DropReason; readonly message: string };

export type DropReason =
  | "noLeader"
  | "notLeader"
  | "transferring"
  | "uncommittedLimit"
  | "confChangePending"
  | "invalidConfChange"
  | "readQueueFull";

export type ReadResult = { readonly kind: "accepted" } | { readonly kind: "dropped"; readonly reason: DropReason; readonly message: string };

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
    this.ticks++;
    if (this.role === "leader") {
      this.tickLeader();
      return;
    }
    this.electionElapsed++;
    this.leaderContactElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  step(m: Message): void {
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
      this.stepStale(m);
      return;
    }

    switch (m.type) {
      case "vote":
      case "preVote":
        this.handleVoteRequest(m);
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
        this.stepCandidate(m);
        return;
      case "follower":
        this.stepFollower(m);
        return;
      default:
        unreachable(this.role);
    }
  }

  propose(data: readonly Uint8Array[]): ProposeResult {
    return this.proposeEntries(data.map((d) => ({ type: "normal", data: d })));
  }

  proposeConfChange(change: ConfChange): ProposeResult {
    if (this.role === "leader") {
      const blocked = this.confChangeBlockedReason();
      if (blocked !== undefined) return { kind: "dropped", reason: "confChangePending", message: blocked };
      const invalid = invalidChangeReason(this.configs.current(), change);
      if (invalid !== undefined) return { kind: "dropped", reason: "invalidConfChange", message: invalid };
    }
    return this.proposeEntries([{ type: "confChange", data: encodeConfChange(change) }]);
  }

  /**
   * Asks for a linearizable read. When it is safe, a ReadState with `context` appears in a Ready:
   * serve the read once the state machine has applied its index. With `lease`, a leader whose lease
   * holds answers without a round trip. The driver must have delivered every tick that is due by its
   * clock first: a leader that was paused must see that its lease ran out.
   * A read that meets a change of leader is dropped silently; the driver times it out.
   */
  readIndex(context: string, lease: boolean): ReadResult {
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
      this.recordVote(this.id, true);
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

  campaign(kind: "preElection" | "election", transfer: boolean): void {
    const voters = this.configs.current().voters;
    if (kind === "preElection") {
      this.becomePreCandidate();
      // A pre-vote changes nothing durable, so our own counts at once.
      this.votes.set(this.id, true);
    } else {
      this.becomeCandidate();
    }
    const term = kind === "preElection" ? this.term + 1 : this.term;
    const type = kind === "preElection" ? "preVote" : "vote";
    for (const to of voters) {
      if (to === this.id) continue;
      this.send({ type, from: this.id, to, term, index: this.log.lastIndex(), logTerm: this.log.lastTerm(), transfer });
    }
    this.poll();
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
    this.syncProgressWithConfiguration();
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

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    this.leaderContactElapsed = 0;
    if (this.electionElapsed >= this.config.electionTicks) {
      this.electionElapsed = 0;
      if (this.config.checkQuorum && !this.quorumActive()) {
        // §6.2: we may be the stale side of a partition; stop acting as leader.
        this.becomeFollower(this.term, NONE);
        return;
      }
      // A transfer that did not finish within an election timeout is abandoned (§3.10).
      this.leadTransferee = NONE;
    }
    if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      bcastHeartbeat(this);
    }
  }

  /** Resets every follower's activity flag and says whether a quorum was active since the last check. */
  private quorumActive(): boolean {
    const voters = this.configs.current().voters;
    let active = 0;
    for (const id of voters) {
      const pr = this.progress.get(id);
      if (id === this.id || pr?.recentActive === true) active++;
    }
    for (const [id, pr] of this.progress) pr.recentActive = id === this.id;
    return active >= quorumSize(voters.length);
  }

  private inLeaderContact(): boolean {
    return this.config.checkQuorum && this.leaderContactElapsed < this.config.electionTicks;
  }

  private hup(transfer: boolean): void {
    if (this.role === "leader" || !this.promotable()) return;
    this.campaign(this.config.preVote && !transfer ? "preElection" : "election", transfer);
  }

  private poll(): void {
    const result = voteResult(this.configs.current().voters, this.votes);
    if (result === "won") {
      if (this.role === "preCandidate") this.campaign("election", false);
      else if (this.role === "candidate") this.becomeLeader();
    } else if (result === "lost") {
      this.becomeFollower(this.term, NONE);
    }
  }

  private recordVote(from: NodeId, granted: boolean): void {
    if (!this.votes.has(from)) this.votes.set(from, granted);
    this.poll();
  }

  private handleVoteRequest(m: MsgVote): void {
    const canVote =
      this.vote === m.from || (this.vote === NONE && this.lead === NONE) || (m.type === "preVote" && m.term > this.term);
    const granted = canVote && this.candidateLogIsUpToDate(m);
    if (m.type === "vote") {
      if (granted) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
      // A granted vote must be durable before the candidate may count it.
      this.sendAfterPersist({ type: "voteResp", from: this.id, to: m.from, term: this.term, reject: !granted });
    } else {
      // A granted pre-vote answers in the term the candidate asked about, so that it can count it.
      this.send({ type: "preVoteResp", from: this.id, to: m.from, term: granted ? m.term : this.term, reject: !granted });
    }
  }

  /** A message from an older term. Tell a deposed leader the news; ignore the rest. */
  private stepStale(m: Message): void {
    if (m.type === "app" || m.type === "heartbeat") {
      // Without this, a leader cut off by a partition that also runs PreVote or CheckQuorum would
      // never learn the new term from us (our pre-votes and votes would not reach it).
      this.sendAfterPersist({ type: "appResp", from: this.id, to: m.from, term: this.term, index: 0, reject: false, rejectHint: 0, logTerm: 0 });
    } else if (m.type === "preVote") {
      this.send({ type: "preVoteResp", from: this.id, to: m.from, term: this.term, reject: true });
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case "app":
        this.becomeFollower(m.term, m.from);
        this.handleAppend(m);
        return;
      case "heartbeat":
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case "snap":
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case "voteResp":
      case "preVoteResp":
        if ((m.type === "voteResp") === (this.role === "candidate")) this.recordVote(m.from, !m.reject);
        return;
      default:
        // Proposals, reads and transfer requests meet no leader here: dropped.
        return;
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case "app":
        this.heardFromLeader(m.from);
        this.handleAppend(m);
        return;
      case "heartbeat":
        this.heardFromLeader(m.from);
        this.handleHeartbeat(m);
        return;
      case "snap":
        this.heardFromLeader(m.from);
        this.handleSnapshot(m);
        return;
      case "timeoutNow":
        // §3.10: the leader chose us; campaign now, and voters will not hold their lease against us.
        this.hup(true);
        return;
      case "readIndexResp":
        this.readStates.push({ index: m.index, context: m.context });
        return;
      default:
        // A forwarded proposal, read or transfer request that reached a follower is dropped: the
        // leader changed while it travelled, and the asker times it out.
        return;
    }
  }

  private heardFromLeader(from: NodeId): void {
    this.electionElapsed = 0;
    this.leaderContactElapsed = 0;
    this.lead = from;
  }

  private handleAppend(m: MsgApp): void {
    const reply = (index: number, reject = false, rejectHint = 0, logTerm = 0): void =>
      this.sendAfterPersist({ type: "appResp", from: this.id, to: m.from, term: this.term, index, reject, rejectHint, logTerm });
    if (m.index < this.log.committed) {
      reply(this.log.committed);
      return;
    }
    if (!this.log.matchTerm(m.index, m.logTerm)) {
      // Fast backtracking: point the leader at the last index whose term could match its log.
      const hint = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
      reply(m.index, true, hint.index, hint.term);
      return;
    }
    const conflict = this.log.findConflict(m.entries);
    if (conflict !== 0) {
      assert(conflict > this.log.committed, () => `leader ${m.from} sent an entry at ${conflict} that conflicts with our committed log (${this.log.committed})`);
      this.appendToLog(m.entries.slice(conflict - m.entries[0]!.index));
    }
    const lastNew = m.index + m.entries.length;
    this.log.commitTo(Math.min(m.commit, lastNew));
    reply(lastNew);
  }

  private handleHeartbeat(m: MsgHeartbeat): void {
    // The leader sends min(commit, our match), so this never runs past our log.
    this.log.commitTo(m.commit);
    this.send({ type: "heartbeatResp", from: this.id, to: m.from, term: this.term, round: m.round });
  }

  private handleSnapshot(m: MsgSnap): void {
    const { meta } = m.snapshot;
    if (meta.index <= this.log.committed) {
      // Old news: we already have all of it.
    } else if (this.log.matchTerm(meta.index, meta.term)) {
      // We have the snapshot's last entry: it is committed; keep our log.
      this.log.commitTo(meta.index);
    } else {
      this.log.restore(m.snapshot);
      this.configs.reset(meta.index, configurationOf(meta.confState));
    }
    this.sendAfterPersist({ type: "appResp", from: this.id, to: m.from, term: this.term, index: this.log.lastIndex(), reject: false, rejectHint: 0, logTerm: 0 });
  }

  // ---- Shared helpers ----------------------------------------------------------------------

  private proposeEntries(entries: ProposedEntry[]): ProposeResult {
    switch (this.role) {
      case "leader":
        return this.leaderPropose(entries);
      case "follower":
        if (this.lead === NONE) return { kind: "dropped", reason: "noLeader", message: "no leader is known for this group" };
        if (!this.config.forwardProposals) {
          return { kind: "dropped", reason: "notLeader", message: `this replica is a follower and forwarding is off; send it to the leader, ${this.lead}` };
        }
        this.send({ type: "prop", from: this.id, to: this.lead, term: 0, entries });
        return { kind: "forwarded", to: this.lead };
      case "candidate":
      case "preCandidate":
        return { kind: "dropped", reason: "noLeader", message: "an election is under way" };
      default:
        return unreachable(this.role);
    }
  }

  /** The leader's side of a proposal, local or forwarded. */
  leaderPropose(entries: readonly ProposedEntry[]): ProposeResult {
    if (this.leadTransferee !== NONE) {
      return { kind: "dropped", reason: "transferring", message: `leadership is moving to ${this.leadTransferee}; retry with the new leader` };
    }
    const changes = entries.filter((e) => e.type === "confChange");
    if (changes.length > 1) return { kind: "dropped", reason: "invalidConfChange", message: "propose one configuration change at a time" };
    for (const e of changes) {
      const blocked = this.confChangeBlockedReason() ?? invalidChangeReason(this.configs.current(), decodeConfChange(e.data));
      if (blocked !== undefined) return { kind: "dropped", reason: "confChangePending", message: blocked };
    }
    if (this.config.uncommittedBytesMax > 0) {
      let bytes = 0;
      for (const e of entries) bytes += e.data.byteLength;
      // Always let one batch through when nothing is pending, so a large entry cannot wedge the group.
      if (this.uncommittedBytes > 0 && this.uncommittedBytes + bytes > this.config.uncommittedBytesMax) {
        return {
          kind: "dropped",
          reason: "uncommittedLimit",
          message: `${this.uncommittedBytes} bytes are proposed and not yet applied (limit ${this.config.uncommittedBytesMax}); retry after they commit`,
        };
      }
      this.uncommittedBytes += bytes;
    }
    const appended = this.appendEntries(entries);
    return { kind: "appended", firstIndex: appended[0]!.index, lastIndex: appended[appended.length - 1]!.index, term: this.term };
  }

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
    if (changed && this.role === "leader") this.syncProgressWithConfiguration();
  }

  /** Leader only: one Progress per member, no more; fresh lease acknowledgements after a change. */
  syncProgressWithConfiguration(): void {
    const config = this.configs.current();
    const next = this.log.lastIndex() + 1;
    for (const id of [...config.voters, ...config.learners]) {
      const learner = !isVoter(config, id);
      const pr = this.progress.get(id);
      if (pr === undefined) {
        const fresh = new Progress(next, learner, this.config.inflightMessagesMax, this.config.inflightBytesMax);
        // A new member gets an election timeout to answer before CheckQuorum counts it as silent.
        fresh.recentActive = true;
        this.progress.set(id, fresh);
      } else {
        pr.isLearner = learner;
      }
    }
    for (const id of [...this.progress.keys()]) {
      if (!isMember(config, id) && id !== this.id) this.progress.delete(id);
    }
    if (this.leadTransferee !== NONE && !isVoter(config, this.leadTransferee)) this.leadTransferee = NONE;
    this.leaseMinRound = this.reads.lastRound() + 1;
  }

  /** Leader only: what follows a new commit index. */
  onCommitAdvanced(): void {
    if (this.committedEntryInCurrentTerm() && this.readsAwaitingTermCommit.length > 0) {
      const waiting = this.readsAwaitingTermCommit;
      this.readsAwaitingTermCommit = [];
      for (const r of waiting) leaderRead(this, r.context, r.from, r.lease);
    }
    releaseConfirmedReads(this);
    // §4.2.2: a leader that removed itself steps down once the change is committed.
    const config = this.configs.current();
    if (!isVoter(config, this.id) && this.configs.currentIndex() <= this.log.committed) {
      let best: NodeId = NONE;
      let bestMatch = -1;
      for (const id of config.voters) {
        const match = this.progress.get(id)?.match ?? 0;
        if (match > bestMatch) [best, bestMatch] = [id, match];
      }
      if (best !== NONE && bestMatch === this.log.lastIndex()) sendTimeoutNow(this, best);
      this.appendsWanted = false;
      bcastAppend(this); // let the others learn the commit index before we fall silent
      this.becomeFollower(this.term, NONE);
    }
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
