// One Raft group's replica on this node: its RawNode, its state machine, the clients waiting on it,
// and, while it leads, the leader's duties that time drives (lease expiry, keys whose TTL passed,
// tombstones past their retention). The store drives it through the Ready contract; this file
// holds what happens after a Ready is durable: apply, answer, advance.

import { NONE, type NodeId, Raft, type RaftOptions, RawNode, type Ready, type SoftState, SeededRandom } from "../raft/index.js";
import { type ApplyResult, type CommandBody, LeaseClock, restampCommand, type ShardState } from "./mvcc/index.js";
import type { WalLogStorage } from "./raft_log.js";
import { StoreError } from "./store_error.js";
import { ReadFreshness } from "./read_freshness.js";
import { Waiters } from "./waiters.js";

export type RaftTuning = Omit<RaftOptions, "id" | "storage" | "random" | "applied">;

export interface HousekeepingSettings {
  /** Ticks between two rounds of the leader's time-driven duties. */
  readonly intervalTicks: number;
  /** Keys deleted by one expireKeys entry; leases revoked per round. */
  readonly expiredKeysPerEntryMax: number;
  readonly expiredLeasesPerRoundMax: number;
  /** How long a tombstone is kept after its delete (watchers and follower reads still see the delete). */
  readonly tombstoneRetentionMs: number;
}

/** A proposal encoded and waiting for the next turn. */
export interface Unproposed {
  readonly requestId: bigint;
  readonly data: Uint8Array;
  /** Housekeeping decided on the leader's clock: only the leader of this term may append it (Store.proposeInternal). */
  readonly leaderTerm?: number;
}

/** What a replica asks of the store around it. */
export interface ReplicaHost {
  /** The wall clock: key TTLs are absolute times on it. */
  nowMs(): number;
  /**
   * The clock lease deadlines are measured on: monotonic, so that a step of the wall clock (NTP, an
   * operator) never expires a lease early or keeps one late. Deadlines never leave the leader, so
   * they need no clock that other nodes share (etcd's lessor measures on Go's monotonic clock).
   */
  leaseNowMs(): number;
  /** Proposes a command of the leader's own (housekeeping); failures are only logged. */
  proposeInternal(replica: Replica, body: CommandBody): void;
  /**
   * Whether `group` is the home of lease `id`: only the home's leader keeps the lease's deadline and
   * expires it. Other shards hold stubs of it for their keys, revoked when the home lets it go.
   */
  isLeaseHome(group: number, id: bigint): boolean;
  /** Whether proposals are waiting for the store's next turn (apply yields to it: applyReady). */
  turnPending(): boolean;
}

/** Entries applied between two looks at whether answered clients proposed again (applyReady). */
export const APPLY_CHUNK_ENTRIES = 16;

export class Replica {
  readonly raw: RawNode;
  readonly waiters: Waiters;
  /** The leader as the last Ready's soft state named it (NONE before any): the store counts changes. */
  leadKnown: NodeId = NONE;
  readonly leaseClock = new LeaseClock();
  /** What the answered ReadIndex rounds proved of this replica's freshness (bounded-staleness reads). */
  readonly freshness = new ReadFreshness();
  /** Readies taken and not yet advanced. */
  inFlight = 0;
  /** Proposals encoded and waiting for the next turn, which hands them to Raft in one call. */
  unproposed: Unproposed[] = [];
  /** Some of `unproposed` were held back for want of a leader, and may have passed their deadline. */
  heldBack = false;
  /**
   * Three ordered lanes per replica: writes made durable (then their acknowledgements sent), committed
   * entries applied, and Readies advanced once both lanes are done with them.
   */
  persistChain: Promise<void> = Promise.resolve();
  applyChain: Promise<void> = Promise.resolve();
  chain: Promise<void> = Promise.resolve();
  /** A snapshot is being installed: no further Ready is taken until it is done. */
  installing = false;
  /** Ticks since a Ready carried entries or reads: a leader goes quiet after a few (group_ticker.ts). */
  idleTicks = 0;
  /** Applied since the last checkpoint: the compaction policy's inputs. */
  entriesSinceCheckpoint = 0;
  bytesSinceCheckpoint = 0;
  private readSeq = 0;
  /** The leader and term as of the last turn (lead 0: none known). */
  private lastLead = 0;
  private lastTerm = 0;
  private ticksSinceHousekeeping = 0;
  private expiring = false;
  private readonly revoking = new Set<bigint>();
  /** (time, revision) samples, oldest first: what revision was current a retention window ago. */
  private readonly revisionHistory: { atMs: number; revision: number }[] = [];
  /**
   * The last look at the TTL index: no key of `state` expires before `nextMs`, as of `revision`. An
   * idle leader then skips the LevelDB scan each round (with 1,000 shards those scans were most of an
   * idle node's work); a new revision or state means a new look.
   */
  private ttlQuiet: { readonly state: ShardState; readonly revision: number; readonly nextMs: number } | undefined;
  /** No tombstone older than this revision is left: the count before a revision only ever shrinks. */
  private tombstonesClearBefore = 0;

  constructor(
    readonly group: number,
    readonly nodeId: NodeId,
    public state: ShardState,
    readonly storage: WalLogStorage,
    tuning: RaftTuning,
    seed: number,
    private readonly host: ReplicaHost,
    private readonly housekeeping: HousekeepingSettings,
    readRetryTicks?: number,
  ) {
    this.waiters = new Waiters(readRetryTicks);
    // A proposal a follower forwarded is stamped with the leader's clock: TTLs and expiries are then
    // decided on one clock, whichever node the client reached (a clock ahead by an hour would
    // otherwise lengthen the TTLs it stamps, and move the shard's apply clock, by an hour).
    const stampForwarded = (data: Uint8Array): Uint8Array => restampCommand(data, host.nowMs());
    this.raw = new RawNode(new Raft({ ...tuning, id: nodeId, storage, random: new SeededRandom(seed), applied: state.applied.index, stampForwarded }));
  }

  /** Tells the log storage, whose snapshots describe the state machine's applied point. */
  onStateReplaced: (state: ShardState) => void = () => undefined;
  /** Tells whoever waits for changes (watches) that the revision moved; the store wires it to its ApplyListeners. */
  onApplied: (revision: number) => void = () => undefined;

  replaceState(state: ShardState): void {
    this.state = state;
    this.onStateReplaced(state);
    this.onApplied(state.revision);
  }

  get isLeader(): boolean {
    return this.raw.raft.role === "leader";
  }

  canTakeReady(pipelineDepth: number): boolean {
    return !this.installing && this.inFlight < pipelineDepth && this.raw.hasReady();
  }

  /** Hands this turn's proposals to Raft in one call, and tells each waiter where its proposal went. */
  proposeUnproposed(): void {
    if (this.unproposed.length === 0) return;
    // Proposals held back while there was no leader may have passed their deadline meanwhile: their
    // clients were told "timed out", so they must never be appended now.
    let batch = this.heldBack ? this.unproposed.filter((p) => this.waiters.isWaiting(p.requestId)) : this.unproposed;
    this.unproposed = [];
    this.heldBack = false;
    const { role, term } = this.raw.raft;
    const outlived = (p: Unproposed): boolean => p.leaderTerm !== undefined && (role !== "leader" || p.leaderTerm !== term);
    if (batch.some(outlived)) {
      const lost = StoreError.unavailable("etcdserver: leader changed", "housekeeping decided by a leader that no longer leads is never proposed to another");
      for (const p of batch.filter(outlived)) this.waiters.failProposal(p.requestId, lost);
      batch = batch.filter((p) => !outlived(p));
    }
    if (batch.length === 0) return;
    const result = this.raw.propose(batch.map((p) => p.data));
    if (result.kind === "appended") {
      batch.forEach((p, i) => this.waiters.placed(p.requestId, result.firstIndex + i));
    } else if (result.kind === "forwarded") {
      for (const p of batch) this.waiters.forwarded(p.requestId);
    } else if (result.kind === "dropped" && (result.reason === "noLeader" || result.reason === "transferring")) {
      // Not appended anywhere, so safe to propose again: kept (ahead of newer ones, in order) for the
      // next turns until a leader takes them or their deadline passes, as etcd waits for a leader.
      // An election or a leader transfer is then invisible to the client but for the wait.
      this.unproposed = batch.concat(this.unproposed);
      this.heldBack = true;
    } else if (result.kind === "dropped") {
      const overloaded = result.reason === "uncommittedLimit";
      const message = result.reason === "noLeader" ? "etcdserver: no leader" : overloaded ? "etcdserver: too many requests" : "etcdserver: leader changed";
      for (const p of batch) {
        this.waiters.failProposal(p.requestId, overloaded ? new StoreError("RESOURCE_EXHAUSTED", message, result.message) : StoreError.unavailable(message, result.message));
      }
    }
  }

  /** Sends this turn's batch of linearizable reads (new ones and those asked again) to the core under one context. */
  askReadIndex(leaseReads: boolean): void {
    const reads = this.waiters.reads;
    const context = `r${this.readSeq++}`;
    if (!reads.takeUnsent(context)) return;
    // Noted before Raft sees the round: the read index it gets covers every write acknowledged before now.
    this.freshness.roundAsked(context);
    const result = this.raw.readIndex(context, leaseReads);
    if (result.kind === "accepted") return;
    this.freshness.roundDropped(context);
    if (result.reason === "noLeader") {
      // As proposals are held for a leader (Store.proposeBatch), so are reads: asked again every turn
      // until a leader is known or their deadline passes, never failed for an election under way.
      reads.holdBack(context);
    } else {
      reads.fail(context, new StoreError("RESOURCE_EXHAUSTED", "etcdserver: too many requests", result.message));
    }
  }

  /**
   * Called at the start of each turn. When the leader or the term changed, requests forwarded to the
   * old leader wait only until the new term's first entry applies (Waiters.settle), not for the
   * request timeout; and read-index requests not answered yet are asked again (read_waiters.ts), since
   * Raft drops them with the old leader's role. The term counts as well as the leader: between two
   * turns a leader may step down and win again, dropping its pending reads though it leads again.
   */
  noticeLeader(): void {
    const { lead, term } = this.raw.raft;
    if (lead === this.lastLead && term === this.lastTerm) return;
    this.lastLead = lead;
    this.lastTerm = term;
    this.waiters.leaderChanged(term);
    this.waiters.reads.leaderChanged();
  }

  onSoftState(soft: SoftState): void {
    if (soft.role === "leader") {
      // etcd's rule: a new leader gives every lease a whole TTL again, so none expires early
      // because the old leader's clock went with it.
      this.leaseClock.promote(
        this.state.leases().filter((lease) => this.host.isLeaseHome(this.group, lease.id)),
        this.host.leaseNowMs(),
      );
    } else {
      this.leaseClock.demote();
      this.revoking.clear();
      this.expiring = false;
    }
  }

  /**
   * Applies a Ready's committed entries and answers their clients. This need not wait for the Ready's
   * own writes: committed entries are durable on a quorum already (etcd applies them while its WAL
   * writes too). A state machine that gets ahead of the local log this way is reconciled at restart.
   */
  async applyReady(ready: Ready): Promise<void> {
    const entries = ready.committedEntries;
    if (entries.length === 0) return;
    // In chunks: the clients answered by one chunk often propose again at once, and yielding to the
    // store's turn then lets their entries reach the WAL, whose sync runs while the next chunk
    // applies. Applied in one piece, every client of a busy node waited for the whole Ready, and
    // the node alternated between syncing with nothing to apply and applying with nothing to sync.
    for (let from = 0; from < entries.length; from += APPLY_CHUNK_ENTRIES) {
      const chunk = from === 0 && entries.length <= APPLY_CHUNK_ENTRIES ? entries : entries.slice(from, from + APPLY_CHUNK_ENTRIES);
      const results = await this.state.apply(chunk, (index) => this.raw.confStateAt(index));
      this.afterApply(results);
      if (from + APPLY_CHUNK_ENTRIES < entries.length && this.host.turnPending()) await new Promise((resolve) => setImmediate(resolve));
    }
    // The error is built only when something fails: an Error captures a stack, and this runs per apply.
    this.waiters.settle(entries[entries.length - 1]!.term, () =>
      StoreError.unavailable("etcdserver: leader changed", "the shard's leader changed while the request was on its way to it, and it did not apply; it may still, if it is still on its way"),
    );
    let bytes = 0;
    for (const entry of entries) bytes += entry.data.byteLength;
    this.entriesSinceCheckpoint += entries.length;
    this.bytesSinceCheckpoint += bytes;
  }

  /** The Ready is durable and applied: advance the core, and serve the reads whose index is reached. */
  finishReady(ready: Ready): void {
    for (const rs of ready.readStates) {
      this.freshness.roundAnswered(rs.context, rs.index);
      this.waiters.reads.indexKnown(rs.context, rs.index);
    }
    this.raw.advance();
    this.inFlight--;
    this.waiters.reads.serve(this.state.applied.index);
  }

  private afterApply(results: readonly ApplyResult[]): void {
    this.waiters.applied(results);
    // On every replica, leader or not: watches are served from any replica's applied state.
    this.onApplied(this.state.revision);
    if (!this.isLeader) return;
    // The leader's lease clock follows what the log decided; revocations are noted where they are
    // proposed (leaseRevoked), and a new leader reads the whole table again (onSoftState).
    const now = this.host.leaseNowMs();
    for (const result of results) {
      if (result.ok && "ttlSeconds" in result.response && "id" in result.response && this.host.isLeaseHome(this.group, result.response.id)) {
        this.leaseClock.granted(result.response.id, result.response.ttlSeconds, now);
      }
    }
  }

  /** A revocation of `id` applied (or the lease was already gone): the clock forgets it. */
  leaseRevoked(id: bigint): void {
    this.leaseClock.revoked(id);
    this.revoking.delete(id);
  }

  /**
   * One tick of the Raft clock, and every few ticks the leader's duties. Returns whether reads wait
   * to be asked for a read index (again): the store must then run a turn even if every group is quiet.
   */
  tick(): boolean {
    this.raw.tick();
    this.waiters.expire(this.host.nowMs());
    const readsUnsent = this.waiters.reads.tick();
    if (++this.ticksSinceHousekeeping >= this.housekeeping.intervalTicks) {
      this.ticksSinceHousekeeping = 0;
      if (this.isLeader) void this.leaderDuties();
    }
    return readsUnsent;
  }

  private async leaderDuties(): Promise<void> {
    const now = this.host.nowMs();
    for (const id of this.leaseClock.expired(this.host.leaseNowMs(), this.housekeeping.expiredLeasesPerRoundMax)) {
      if (this.revoking.has(id)) continue;
      this.revoking.add(id);
      this.host.proposeInternal(this, { op: "leaseRevoke", id });
    }
    if (!this.expiring) {
      this.expiring = true;
      try {
        if (await this.keysMayHaveExpired(now)) {
          const keys = await this.state.expiredKeys(now, this.housekeeping.expiredKeysPerEntryMax);
          if (keys.length > 0 && this.isLeader) this.host.proposeInternal(this, { op: "expireKeys", keys });
        }
      } finally {
        this.expiring = false;
      }
    }
    this.purgeOldTombstones(now);
  }

  /** Whether a key's TTL may have passed: false without reading LevelDB while the last look still holds. */
  private async keysMayHaveExpired(now: number): Promise<boolean> {
    const quiet = this.ttlQuiet;
    const state = this.state;
    if (quiet !== undefined && quiet.state === state && quiet.revision === state.revision && now < quiet.nextMs) return false;
    const next = await state.nextExpiry();
    this.ttlQuiet = { state, revision: next.revision, nextMs: next.atMs ?? Number.POSITIVE_INFINITY };
    return next.atMs !== undefined && next.atMs <= now;
  }

  private purgeOldTombstones(now: number): void {
    const history = this.revisionHistory;
    history.push({ atMs: now, revision: this.state.revision });
    let before: number | undefined;
    while (history.length > 0 && history[0]!.atMs <= now - this.housekeeping.tombstoneRetentionMs) before = history.shift()!.revision;
    if (before === undefined || before <= this.tombstonesClearBefore) return;
    void this.state.tombstonesBefore(before, 1).then((count) => {
      if (count === 0) this.tombstonesClearBefore = Math.max(this.tombstonesClearBefore, before);
      if (count > 0 && this.isLeader) this.host.proposeInternal(this, { op: "purgeTombstones", beforeRevision: before });
    });
  }
}
