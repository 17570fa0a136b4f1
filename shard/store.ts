// A node's store: every replica it hosts, one write-ahead log and one LevelDB for all of them, and the
// loop that drives them. Each turn takes the Readies of every replica, sends what may go at once,
// writes all their log records, and syncs once for all (group commit); each replica then applies and
// answers in its own order while the next turn already writes (pipelining, raw_node.ts's contract).
// Nothing is answered, acknowledged or voted before the sync that covers it.

import { randomBytes } from "node:crypto";
import { assert, bootstrapEntries, NONE, type Message, type MsgSnap, type NodeId, type Ready } from "../raft/index.js";
import { ApplyListeners } from "./apply_listeners.js";
import { checkpointDue, type CompactionSettings, takeCheckpoint } from "./checkpoint.js";

export type { CompactionSettings } from "./checkpoint.js";
import { type ApplyResult, type CommandBody, encodeCommand, MVCC_DEFAULTS, type MvccLimits, ShardState, validateCommand } from "./mvcc/index.js";
import { GroupTicker, QUIESCE_DEFAULTS, type QuiesceSettings } from "./group_ticker.js";
import { WalLogStorage } from "./raft_log.js";
import { type LevelDb, replicaPrefix } from "./keyspace.js";
import { type HousekeepingSettings, type RaftTuning, Replica, type ReplicaHost } from "./replica.js";
import { reconcileLog } from "./reconcile.js";
import { currentGeneration, dropOtherGenerations } from "./snapshot/snapshot_sink.js";
import { SnapshotStaging } from "./snapshot/snapshot_staging.js";
import { TickClock } from "./tick_clock.js";
import { StoreError } from "./store_error.js";
import type { GroupId } from "./wal/record.js";
import type { Wal } from "./wal/wal.js";

/** Moves Raft messages between nodes. Snapshots travel on their own: see `snapshotChunks`/`receiveSnapshot`. */
export interface Transport {
  send(group: GroupId, messages: readonly Message[]): void;
  /** Milliseconds since anything came from `node` (node liveness); without it, groups never go quiet. */
  silentMs?(node: NodeId): number;
}

export interface StoreOptions {
  readonly nodeId: NodeId;
  readonly db: LevelDb;
  readonly wal: Wal;
  readonly transport: Transport;
  /**
   * Wall clock in ms; key TTLs (absolute times) are read from it. Lease deadlines are not: they run
   * on the monotonic clock (leaseNowMs), which a step of this one never moves.
   */
  readonly nowMs?: () => number;
  readonly tickMs?: number;
  /**
   * Test faults only (shardkv --test-faults): how fast this node's tick clock runs against real time,
   * read again at every tick. Absent in production, where ticks come from one setInterval.
   */
  readonly tickRate?: () => number;
  readonly raft?: RaftTuning;
  readonly limits?: Partial<MvccLimits>;
  readonly compaction?: Partial<CompactionSettings>;
  readonly housekeeping?: Partial<HousekeepingSettings>;
  readonly quiesce?: Partial<QuiesceSettings>;
  /** Readies one replica may have between taken and advanced. */
  readonly pipelineDepth?: number;
  readonly requestTimeoutMs?: number;
  /** Ticks a linearizable read waits for its read index before asking again (read_waiters.ts). */
  readonly readRetryTicks?: number;
  /** Proposals and linearizable reads that may wait on one replica before new ones are refused. */
  readonly proposalsPendingMax?: number;
  readonly readsPendingMax?: number;
  /**
   * The home shard of a lease (ReplicaHost.isLeaseHome); by default every shard is home to its
   * leases, as with one data shard. The router sets it from the shard map.
   */
  readonly isLeaseHome?: (group: GroupId, id: bigint) => boolean;
  /** Called once when the store cannot go on (a failed fsync, corruption): the process must exit. */
  readonly onFatal?: (error: Error) => void;
  readonly log?: (line: string) => void;
}

export const STORE_DEFAULTS = {
  tickMs: 100,
  pipelineDepth: 4,
  requestTimeoutMs: 7_000,
  proposalsPendingMax: 16_384,
  readsPendingMax: 65_536,
  compaction: { entriesPerCheckpoint: 10_000, bytesPerCheckpoint: 64 * 1024 * 1024, entriesRetained: 5_000, segmentsBeforeFullCompaction: 4 },
  housekeeping: { intervalTicks: 5, expiredKeysPerEntryMax: 1_000, expiredLeasesPerRoundMax: 1_000, tombstoneRetentionMs: 60 * 60 * 1000 },
} as const;

export interface StoreCounts {
  /** Client and housekeeping proposals accepted into a replica's queue. */
  proposals: number;
  linearizableReads: number;
  serializableReads: number;
  /**
   * Readies taken (one per group and turn with work), the entries they wrote to the WAL and handed
   * to apply, and the Raft messages they sent: how well turns batch. With 64 clients over 8 groups
   * a Ready carried ~1.4 new entries; over 1 group, ~8.6.
   */
  readies: number;
  entriesWritten: number;
  entriesCommitted: number;
  raftMessages: number;
  /** Times a replica learned of a leader other than the one it knew (etcd's leader_changes_seen). */
  leaderChanges: number;
}

/** The request counter wraps within its 48 bits (below 2^53: exact as a number). */
const REQUEST_COUNTER_MODULUS = 2 ** 48;

export class Store implements ReplicaHost {
  private readonly replicas = new Map<GroupId, Replica>();
  private readonly snapshots: SnapshotStaging;
  private readonly limits: MvccLimits;
  private readonly compaction: CompactionSettings;
  private readonly housekeeping: HousekeepingSettings;
  private readonly clock: () => number;
  /** Raft ticks and lease deadlines are counted on it (monotonic). */
  private readonly tickClock: TickClock;
  private turnScheduled = false;
  private checkpointing = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly ticker: GroupTicker;
  private failure: Error | undefined;
  private closed = false;
  /** Request ids are the node id (high 16 bits) and a 48-bit counter: kept apart, so that a new id is one BigInt. */
  private readonly requestNodeBits: bigint;
  private requestCounter: number;
  /** Requests and Readies taken since open, for metrics: plain numbers bumped as they come, nothing allocated. */
  readonly counts: StoreCounts = { proposals: 0, linearizableReads: 0, serializableReads: 0, readies: 0, entriesWritten: 0, entriesCommitted: 0, raftMessages: 0, leaderChanges: 0 };
  /** Told whenever a replica applied entries or installed a snapshot: what watches wait on. */
  readonly applyListeners = new ApplyListeners((group, error) => this.options.log?.(`shard ${group}: an apply listener failed: ${String(error)}`));

  private constructor(private readonly options: StoreOptions) {
    this.limits = { ...MVCC_DEFAULTS, ...options.limits };
    this.compaction = { ...STORE_DEFAULTS.compaction, ...options.compaction };
    this.housekeeping = { ...STORE_DEFAULTS.housekeeping, ...options.housekeeping };
    this.snapshots = new SnapshotStaging(options.db, this.limits);
    this.clock = options.nowMs ?? Date.now;
    this.tickClock = new TickClock(options.tickMs ?? STORE_DEFAULTS.tickMs, options.tickRate);
    const silentMs = options.transport.silentMs?.bind(options.transport);
    this.ticker = new GroupTicker({ ...QUIESCE_DEFAULTS, ...options.quiesce }, options.tickMs ?? STORE_DEFAULTS.tickMs, silentMs);
    assert(options.nodeId > 0 && options.nodeId < 0x10000, "node ids must fit in 16 bits (they prefix request ids)");
    // Request ids: the node id, then a counter that starts at random so a restarted node does not
    // reuse the ids of requests it proposed before it died.
    this.requestNodeBits = BigInt(options.nodeId) << 48n;
    this.requestCounter = randomBytes(6).readUIntBE(0, 6);
  }

  /** Opens every replica the write-ahead log knows, reconciling each with its state machine. */
  static async open(options: StoreOptions): Promise<Store> {
    const store = new Store(options);
    for (const group of options.wal.groups()) await store.openReplica(group);
    await options.wal.sync();
    store.tickClock.skipDue(); // opening took what it took: ticks count from now
    if (options.tickRate === undefined) store.timer = setInterval(() => store.catchUpTicks(), store.tickClock.tickMs);
    else store.tickSkewed();
    store.schedule();
    return store;
  }

  nowMs(): number {
    return this.clock();
  }

  /** Lease deadlines' clock (ReplicaHost.leaseNowMs): the node's monotonic tick clock, in ms. */
  leaseNowMs(): number {
    return this.tickClock.nowMs();
  }

  isLeaseHome(group: GroupId, id: bigint): boolean {
    return this.options.isLeaseHome?.(group, id) ?? true;
  }

  groups(): GroupId[] {
    return [...this.replicas.keys()].sort((a, b) => a - b);
  }

  hasReplica(group: GroupId): boolean {
    return this.replicas.has(group);
  }

  replica(group: GroupId): Replica {
    const replica = this.replicas.get(group);
    if (replica === undefined) throw new StoreError("NOT_FOUND", `shard ${group} has no replica on this node`, "ask the shard map which nodes hold it");
    return replica;
  }

  /**
   * Creates a replica of a new group. With `voters`, this node is one of the group's first members
   * and writes the bootstrap entries; without, it waits for a leader to send it the log or a snapshot.
   */
  async createGroup(group: GroupId, voters: readonly NodeId[]): Promise<void> {
    const { wal } = this.options;
    if (wal.group(group) !== undefined) throw new StoreError("FAILED_PRECONDITION", `shard ${group} already has a replica here`, "use the existing replica");
    if (voters.length > 0) {
      const boot = bootstrapEntries([...voters]);
      wal.appendEntries(group, boot.entries);
      wal.setHardState(group, boot.hardState);
    } else {
      wal.setHardState(group, { term: 0, vote: 0, commit: 0 });
    }
    await wal.sync();
    await this.openReplica(group);
    this.schedule();
  }

  private async openReplica(group: GroupId): Promise<void> {
    const { db, wal } = this.options;
    const generation = await currentGeneration(db, group);
    await dropOtherGenerations(db, group, generation);
    const state = await ShardState.open({ db, prefix: replicaPrefix(group, generation), limits: this.limits });
    reconcileLog(wal, group, state, this.options.log);
    // The storage reads the replica's current state machine, which a snapshot install replaces.
    let current = state;
    const storage = new WalLogStorage(wal, group, () => ({ index: current.applied.index, term: current.applied.term, confState: current.confState }));
    const replica = new Replica(group, this.options.nodeId, state, storage, this.options.raft ?? {}, randomBytes(4).readUInt32LE(0), this, this.housekeeping, this.options.readRetryTicks);
    replica.onStateReplaced = (next) => {
      current = next;
    };
    replica.onApplied = (revision) => this.applyListeners.notify(group, revision);
    this.replicas.set(group, replica);
  }

  // ---- Requests ----------------------------------------------------------------------------------

  /**
   * Proposes a command; resolves once it applied here, with its result (which may be a deterministic
   * failure). Not an async function: the waiter's promise is returned as it is, one promise and one
   * microtask hop fewer per proposal; anything thrown before it exists becomes a rejection.
   * With `leaderTerm`, only this replica leading in that term may append it; otherwise it fails with
   * "leader changed" and is never forwarded (the leader's housekeeping: proposeInternal).
   */
  propose(group: GroupId, body: CommandBody, leaderTerm?: number): Promise<ApplyResult> {
    try {
      this.assertRunning();
      const replica = this.replica(group);
      const max = this.options.proposalsPendingMax ?? STORE_DEFAULTS.proposalsPendingMax;
      if (replica.waiters.proposalCount >= max) throw StoreError.overloaded(`shard ${group}'s proposal queue`, max, "proposalsPendingMax");
      const requestId = this.nextRequestId();
      const nowMs = this.clock();
      const command = { ...body, header: { nowMs, requestId } };
      validateCommand(command, this.limits);
      const waiting = replica.waiters.addProposal(requestId, nowMs + this.requestTimeoutMs());
      // Proposed to Raft at the next turn, with every other proposal that arrived meanwhile: one call,
      // one append, however many clients (TiKV batches its proposals the same way).
      replica.unproposed.push(leaderTerm === undefined ? { requestId, data: encodeCommand(command) } : { requestId, data: encodeCommand(command), leaderTerm });
      this.counts.proposals++;
      this.schedule();
      return waiting;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Waits until the replica's state can answer a linearizable read (ReadIndex, or the leader's lease),
   * then returns it; read from it at once. Serializable reads skip the wait (any replica's applied state).
   */
  async readState(group: GroupId, consistency: "linearizable" | "serializable"): Promise<ShardState> {
    this.assertRunning();
    const replica = this.replica(group);
    if (consistency === "serializable") this.counts.serializableReads++;
    if (consistency === "linearizable") {
      const max = this.options.readsPendingMax ?? STORE_DEFAULTS.readsPendingMax;
      if (replica.waiters.readCount >= max) throw StoreError.overloaded(`shard ${group}'s read queue`, max, "readsPendingMax");
      this.counts.linearizableReads++;
      const ready = replica.waiters.reads.add(this.clock() + this.requestTimeoutMs());
      this.schedule();
      await ready;
    }
    return replica.state;
  }

  /**
   * A read that may miss only writes acknowledged more than `maxStalenessMs` ago: the replica's state
   * at once when its answered ReadIndex rounds prove it that fresh (read_freshness.ts says why that is
   * a proof), else a linearizable read (whose own round refreshes the proof for the reads after it).
   */
  async readBounded(group: GroupId, maxStalenessMs: number): Promise<{ readonly state: ShardState; readonly servedLocally: boolean }> {
    this.assertRunning();
    const replica = this.replica(group);
    if (replica.freshness.withinMs(replica.state.applied.index, maxStalenessMs)) {
      this.counts.serializableReads++;
      return { state: replica.state, servedLocally: true };
    }
    return { state: await this.readState(group, "linearizable"), servedLocally: false };
  }

  /** Grants a lease; with id 0 the store picks a random positive 63-bit id, as etcd's server does. */
  async leaseGrant(group: GroupId, ttlSeconds: number, id = 0n): Promise<ApplyResult> {
    const chosen = id !== 0n ? id : randomBytes(8).readBigUInt64BE(0) & 0x7fff_ffff_ffff_ffffn || 1n;
    return this.propose(group, { op: "leaseGrant", id: chosen, ttlSeconds });
  }

  /** Leader only: renews a lease on the leader's clock (etcd does not replicate keep-alives either). */
  leaseKeepAlive(group: GroupId, id: bigint): number {
    const replica = this.replica(group);
    if (!replica.isLeader) throw StoreError.unavailable("etcdserver: not leader", `this node does not lead shard ${group}; send keep-alives to its leader`);
    const ttl = replica.leaseClock.keepAlive(id, this.leaseNowMs());
    if (ttl === undefined) throw new StoreError("NOT_FOUND", "etcdserver: requested lease not found", `lease ${id} expired or was revoked; grant a new one`);
    return ttl;
  }

  /** Revokes a lease and tells the leader's clock. */
  async leaseRevoke(group: GroupId, id: bigint): Promise<ApplyResult> {
    const result = await this.propose(group, { op: "leaseRevoke", id });
    this.replicas.get(group)?.leaseRevoked(id);
    return result;
  }

  proposeInternal(replica: Replica, body: CommandBody): void {
    // A decision of the leader's clock (a lease or a key expired) is this leader's alone: proposed
    // after it lost the lead (it froze, and woke to a newer leader), it would be forwarded to the new
    // leader, whose clock may keep the lease alive, and revoke it there (etcd-io/etcd#15247). So it
    // carries the term it was decided in, and proposeBatch drops it once that term's lead is gone.
    if (!replica.isLeader) return;
    this.propose(replica.group, body, replica.raw.raft.term).then(
      () => {
        if (body.op === "leaseRevoke") replica.leaseRevoked(body.id);
      },
      (error: unknown) => {
        if (body.op === "leaseRevoke") replica.leaseRevoked(body.id);
        this.options.log?.(`shard ${replica.group}: housekeeping ${body.op} failed: ${String(error)}`);
      },
    );
  }

  /**
   * Asks this node's replica, if it leads the group, to hand leadership to `to` (Raft's leader
   * transfer, thesis §3.10: `to` is caught up first, then told to campaign at once). Proposals
   * pause meanwhile; a transfer that does not finish within an election timeout is abandoned.
   */
  transferLeader(group: GroupId, to: NodeId): void {
    this.assertRunning();
    const replica = this.replica(group);
    if (!replica.isLeader) return;
    replica.raw.transferLeader(to);
    this.schedule();
  }

  /** A message for one of our replicas, from the transport. */
  step(group: GroupId, message: Message): void {
    const replica = this.replicas.get(group);
    if (replica === undefined || this.failure !== undefined || this.closed) return;
    replica.raw.step(message);
    this.schedule();
  }

  reportUnreachable(group: GroupId, to: NodeId): void {
    this.replicas.get(group)?.raw.reportUnreachable(to);
  }

  reportSnapshot(group: GroupId, to: NodeId, delivered: boolean): void {
    this.replicas.get(group)?.raw.reportSnapshot(to, delivered);
    this.schedule();
  }

  // ---- Snapshots between nodes -----------------------------------------------------------------

  /** The chunks of a snapshot of `group` (at or past the index the core put in its MsgSnap). */
  snapshotChunks(group: GroupId, chunkBytesMax?: number): AsyncGenerator<Uint8Array> {
    return this.snapshots.chunksOf(this.replica(group).state, chunkBytesMax);
  }

  /** Stages a streamed snapshot, then hands its message to Raft, which installs it through a Ready. */
  async receiveSnapshot(group: GroupId, message: MsgSnap, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    this.replica(group);
    await this.snapshots.stage(group, chunks);
    this.step(group, message);
  }

  private async install(replica: Replica, ready: Ready): Promise<void> {
    const { meta } = ready.snapshot!;
    await this.snapshots.install(replica, meta);
    const { wal } = this.options;
    wal.applySnapshot(replica.group, meta.index, meta.term, meta.confState);
    this.writeReady(replica.group, ready);
    await wal.sync();
    replica.installing = false;
  }

  // ---- The loop ----------------------------------------------------------------------------------

  turnPending(): boolean {
    return this.turnScheduled;
  }

  schedule(): void {
    if (this.turnScheduled || this.closed || this.failure !== undefined) return;
    this.turnScheduled = true;
    setImmediate(() => this.turn());
  }

  private turn(): void {
    this.turnScheduled = false;
    if (this.closed || this.failure !== undefined) return;
    this.catchUpTicks();
    const leaseReads = this.options.raft?.leaseReads ?? true;
    const depth = this.options.pipelineDepth ?? STORE_DEFAULTS.pipelineDepth;
    const written: { replica: Replica; ready: Ready }[] = [];
    let mustSync = false;
    try {
      for (const replica of this.replicas.values()) {
        replica.noticeLeader();
        replica.proposeUnproposed();
        replica.askReadIndex(leaseReads);
        while (replica.canTakeReady(depth)) {
          const ready = replica.raw.ready();
          replica.inFlight++;
          this.countReady(ready);
          if (ready.entries.length > 0 || ready.committedEntries.length > 0 || ready.readStates.length > 0) replica.idleTicks = 0;
          if (ready.softState !== undefined) {
            // As etcd counts it: a leader that is not the last one known (none included).
            if (ready.softState.lead !== NONE && ready.softState.lead !== replica.leadKnown) this.counts.leaderChanges++;
            replica.leadKnown = ready.softState.lead;
            replica.onSoftState(ready.softState);
          }
          if (ready.messages.length > 0) this.options.transport.send(replica.group, ready.messages);
          if (ready.snapshot !== undefined) {
            replica.installing = true;
            this.enqueue(replica, () => this.install(replica, ready), ready, true);
            break;
          }
          this.writeReady(replica.group, ready);
          mustSync ||= ready.mustSync;
          written.push({ replica, ready });
        }
      }
    } catch (error) {
      this.fail(error);
      return;
    }
    if (written.length === 0) return;
    const synced = mustSync ? this.options.wal.sync() : Promise.resolve();
    for (const { replica, ready } of written) this.enqueue(replica, () => synced, ready);
  }

  /**
   * Queues the rest of a Ready's contract on the replica's lanes: `persist` and then the messages that
   * promised durability; applying its committed entries (in parallel with the persist); and, once both
   * are done, advancing. A snapshot install is both: it waits for earlier applies and comes before later ones.
   */
  private enqueue(replica: Replica, persist: () => Promise<void>, ready: Ready, install = false): void {
    const send = () => {
      if (ready.persistedMessages.length > 0) this.options.transport.send(replica.group, ready.persistedMessages);
    };
    let persisted: Promise<void>;
    let applied: Promise<void>;
    if (install) {
      applied = replica.applyChain = replica.applyChain.then(persist);
      persisted = replica.persistChain = replica.persistChain.then(() => applied).then(send);
    } else {
      persisted = replica.persistChain = replica.persistChain.then(persist).then(send);
      applied = replica.applyChain = replica.applyChain.then(() => replica.applyReady(ready));
    }
    replica.chain = replica.chain
      .then(() => Promise.all([persisted, applied]))
      .then(() => {
        replica.finishReady(ready);
        if (ready.committedEntries.length > 0) this.maybeCheckpoint();
        this.schedule();
      })
      .catch((error: unknown) => this.fail(error));
  }

  private countReady(ready: Ready): void {
    const counts = this.counts;
    counts.readies++;
    counts.entriesWritten += ready.entries.length;
    counts.entriesCommitted += ready.committedEntries.length;
    counts.raftMessages += ready.messages.length + ready.persistedMessages.length;
  }

  private writeReady(group: GroupId, ready: Ready): void {
    const { wal } = this.options;
    if (ready.entries.length > 0) wal.appendEntries(group, ready.entries);
    if (ready.hardState !== undefined) wal.setHardState(group, ready.hardState);
  }

  /** Test faults only: the timer fires once per tick of the skewed clock, its rate read again each time. */
  private tickSkewed(): void {
    this.timer = setTimeout(() => {
      if (this.closed || this.failure !== undefined) return;
      this.catchUpTicks();
      this.tickSkewed();
    }, this.tickClock.realTickMs());
  }

  /**
   * Delivers every tick due by the tick clock, however late the timer fired (tick_clock.ts says why).
   * turn() calls it first, so a leader that was frozen sees its lease run out before any read index.
   */
  private catchUpTicks(): void {
    if (this.closed || this.failure !== undefined) return;
    for (let due = this.tickClock.takeDue(); due > 0; due--) this.tick();
  }

  private tick(): void {
    if (this.closed || this.failure !== undefined) return;
    // A node whose groups are all quiet runs no turn: nothing in it has anything to do.
    if (this.ticker.tick(this.replicas.values())) this.schedule();
  }

  // ---- Checkpoints and log compaction ------------------------------------------------------------

  private maybeCheckpoint(): void {
    if (this.checkpointing) return;
    if (!checkpointDue(this.replicas.values(), this.compaction)) return;
    this.checkpointing = true;
    this.checkpoint()
      .catch((error: unknown) => this.fail(error))
      .finally(() => {
        this.checkpointing = false;
      });
  }

  /** Makes every replica's applied state durable, then lets the WAL forget what lies behind it (checkpoint.ts). */
  async checkpoint(): Promise<void> {
    await takeCheckpoint([...this.replicas.values()], this.options.db, this.options.wal, this.compaction, this.clock());
  }

  // ---- Life and death ----------------------------------------------------------------------------

  private requestTimeoutMs(): number {
    return this.options.requestTimeoutMs ?? STORE_DEFAULTS.requestTimeoutMs;
  }

  private nextRequestId(): bigint {
    this.requestCounter = (this.requestCounter + 1) % REQUEST_COUNTER_MODULUS;
    return this.requestNodeBits | BigInt(this.requestCounter);
  }

  private assertRunning(): void {
    if (this.failure !== undefined) throw StoreError.unavailable("etcdserver: request timed out", `this node stopped: ${this.failure.message}`);
    if (this.closed) throw StoreError.unavailable("etcdserver: request timed out", "this node is shutting down; retry on another");
  }

  /** The store cannot go on: stop everything, fail every waiter, and tell the process. */
  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = error instanceof Error ? error : new Error(String(error));
    clearInterval(this.timer);
    const stopped = StoreError.unavailable("etcdserver: request timed out", `this node stopped: ${this.failure.message}`);
    for (const replica of this.replicas.values()) replica.waiters.failAll(stopped);
    this.options.log?.(`store stopped: ${this.failure.stack ?? this.failure.message}`);
    this.options.onFatal?.(this.failure);
  }

  get fatalError(): Error | undefined {
    return this.failure;
  }

  /** As if the process died this instant: nothing more runs on a timer, nothing is flushed or closed. */
  abandon(): void {
    this.closed = true;
    clearInterval(this.timer);
  }

  /** Stops the loop, lets what is in flight finish, and closes the state machines (not the db or the WAL: they are the caller's). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const closing = StoreError.unavailable("etcdserver: request timed out", "this node is shutting down; retry on another");
    for (const replica of this.replicas.values()) {
      await replica.chain;
      await replica.applyChain.catch(() => undefined);
      replica.waiters.failAll(closing);
      await replica.state.close();
    }
  }
}
