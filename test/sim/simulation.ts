// One seeded run: real Raft replicas on a simulated network, disk and clock, clients that record a
// history, and a nemesis that crashes, pauses, partitions, changes membership and moves leadership.
// Invariants are checked after every event; at the end the cluster heals, must converge, and the
// history must be linearizable. Everything random comes from the one seed.

import { type Entry, RaftInvariantError, bootstrapEntries as bootstrapEntriesFor, type Message, type NodeId, type Raft, type RawNode, type Ready, SeededRandom } from "../../raft/index.js";
import { checkHistory } from "../lin/check.js";
import type { Operation } from "../lin/history.js";
import { EventQueue } from "./event_queue.js";
import { HistoryRecorder } from "./history.js";
import { InvariantChecker, InvariantViolation } from "./invariants.js";
import { Nemesis } from "./nemesis.js";
import { Network } from "./network.js";
import type { SimOptions } from "./options.js";
import { MachineCodec } from "./sim_machine.js";
import { type NodeHost, SimNode } from "./sim_node.js";

type SimEvent =
  | { readonly kind: "tick"; readonly node: SimNode; readonly epoch: number }
  | { readonly kind: "deliver"; readonly message: Message; readonly sentAt: number; readonly senderEpoch: number }
  | { readonly kind: "persist"; readonly node: SimNode; readonly epoch: number }
  | { readonly kind: "client"; readonly client: SimClient }
  | { readonly kind: "timeout"; readonly client: SimClient; readonly requestId: string }
  | { readonly kind: "snapshotStatus"; readonly from: NodeId; readonly to: NodeId; readonly delivered: boolean }
  | { readonly kind: "nemesis" }
  | { readonly kind: "call"; readonly run: () => void };

interface SimClient {
  readonly id: number;
  seq: number;
  guess: NodeId;
  inFlight: { readonly op: Operation; readonly requestId: string; readonly node: NodeId } | undefined;
}

/** A read handed to Raft on one incarnation of a node: when, with which leader and term it was last asked. */
interface AskedRead {
  readonly lease: boolean;
  readonly epoch: number;
  askedAt: number;
  lead: NodeId;
  term: number;
}

export interface SimStats {
  ok: number;
  failed: number;
  unknown: number;
  leaderElections: number;
  leaseReads: number;
  /** Read-index requests sent again for a read still waiting (a change of leader or term, or no answer in time). */
  readsAskedAgain: number;
  faults: Record<string, number>;
  events: number;
  /** State machines started from a snapshot's data. */
  restores: number;
}

export interface SimResult {
  readonly seed: number;
  readonly violation: string | undefined;
  readonly trace: readonly string[];
  readonly traceHash: string;
  readonly stats: SimStats;
  readonly history: readonly Operation[];
}

/** Ticks of a silent leader node before its quiet followers wake (the store's peerSilenceTicksMax). */
const SILENT_TICKS_TO_WAKE = 3;

const KIND_CODES: Record<SimEvent["kind"], number> = { tick: 1, deliver: 2, persist: 3, client: 4, timeout: 5, snapshotStatus: 6, nemesis: 7, call: 8 };

export class Simulation implements NodeHost {
  readonly queue = new EventQueue<SimEvent>();
  readonly nodes = new Map<NodeId, SimNode>();
  readonly network: Network;
  readonly invariants = new InvariantChecker();
  readonly history = new HistoryRecorder();
  readonly trace: string[] = [];
  readonly random: SeededRandom;
  readonly stats: SimStats = { ok: 0, failed: 0, unknown: 0, leaderElections: 0, leaseReads: 0, readsAskedAgain: 0, faults: {}, events: 0, restores: 0 };
  private readonly clients: SimClient[] = [];
  private readonly pending = new Map<string, { client: SimClient; node: NodeId; key: string; read?: AskedRead }>();
  private readonly roles = new Map<NodeId, string>();
  private readonly nemesis: Nemesis;
  private readonly nodeRandom: SeededRandom;
  private readonly clientRandom: SeededRandom;
  private hash = 0x811c9dc5;
  /** When each node's disk queue drains: writes complete in the order they were issued. */
  private readonly diskFreeAt = new Map<NodeId, number>();
  /** Nodes with a degraded disk: their syncs take several times longer, so followers often ack first. */
  private readonly slowDisks = new Set<NodeId>();
  /** Per-seed choices of limits that do not affect safety but change the interleavings. */
  private readonly variety: { appendBytesMax: number; inflightMessagesMax: number; pipelineDepth: number; quiesceIdleTicks: number };
  /** Quiescence's driver side (shard/group_ticker.ts): a leader's ticks without entries or reads, and a quiet follower's ticks without its leader's node. */
  private readonly idleTicks = new Map<NodeId, number>();
  private readonly silentTicks = new Map<NodeId, number>();
  /** Clients stop starting operations and the nemesis stops once the active phase ends. */
  active = true;
  readonly codec: MachineCodec;

  constructor(
    readonly seed: number,
    readonly options: SimOptions,
  ) {
    const root = new SeededRandom(seed);
    this.codec = new MachineCodec(options.machine);
    this.random = root.split();
    this.network = new Network(options.network, root.split());
    this.nodeRandom = root.split();
    this.clientRandom = root.split();
    this.nemesis = new Nemesis(this, root.split());
    const pick = root.split();
    this.variety = {
      appendBytesMax: options.raft.appendBytesMax ?? pick.pick([1, 512, 4096]),
      inflightMessagesMax: options.raft.inflightMessagesMax ?? pick.pick([1, 4, 64]),
      pipelineDepth: options.pipelineDepth ?? pick.pick([1, 2, 4]),
      quiesceIdleTicks: options.quiesceIdleTicks ?? pick.pick([0, 1, 4]),
    };
  }

  get now(): number {
    return this.queue.now;
  }

  async run(): Promise<SimResult> {
    let violation: string | undefined;
    try {
      this.setUp();
      await this.settle();
      const activeEnd = this.options.durationTicks * this.options.tickMicros;
      const end = activeEnd + this.options.quietTicks * this.options.tickMicros;
      this.queue.at(activeEnd, { kind: "call", run: () => this.endActivePhase() });
      for (;;) {
        const next = this.queue.peekTime();
        if (next === undefined || next > end) break;
        this.handle(this.queue.pop()!);
        await this.settle();
        this.afterEvent();
      }
      await this.finalChecks();
    } catch (error) {
      if (!(error instanceof InvariantViolation || error instanceof RaftInvariantError)) throw error;
      violation = `${error instanceof RaftInvariantError ? "core assertion: " : ""}${error.message}`;
      this.log(`VIOLATION ${violation}`);
    }
    this.stats.ok = this.history.count("ok");
    this.stats.failed = this.history.count("fail");
    this.stats.unknown = this.history.count("unknown");
    this.stats.leaderElections = this.invariants.leaderElections;
    this.stats.restores = this.codec.restores;
    return { seed: this.seed, violation, trace: this.trace, traceHash: (this.hash >>> 0).toString(16).padStart(8, "0"), stats: this.stats, history: this.history.operations };
  }

  /**
   * Lets the real state machine's promises finish before the next event: in simulated time its work
   * takes no time, and the order of events never depends on how long LevelDB took.
   */
  private async settle(): Promise<void> {
    while (this.codec.pending > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.codec.failure !== undefined) throw this.codec.failure;
  }

  log(line: string): void {
    this.trace.push(`${(this.now / 1000).toFixed(3).padStart(10)}ms ${line}`);
  }

  countFault(kind: string): void {
    this.stats.faults[kind] = (this.stats.faults[kind] ?? 0) + 1;
  }

  // ---- Nodes ------------------------------------------------------------------------------------

  addNode(id: NodeId): SimNode {
    const drift = this.options.clockDrift;
    // Clocks mostly sit at the edges of the allowed drift, fast or slow: a slow leader with fast
    // followers is where a lease breaks.
    const rate = this.nodeRandom.chance(0.7) ? 1 + (this.nodeRandom.chance(0.5) ? drift : -drift) : 1 + (this.nodeRandom.float() * 2 - 1) * drift;
    const node = new SimNode(
      id,
      this,
      {
        raftOptions: { ...this.options.raft, appendBytesMax: this.variety.appendBytesMax, inflightMessagesMax: this.variety.inflightMessagesMax },
        makeRaft: this.options.makeRaft,
        compactEvery: this.options.compactEvery,
        compactRetain: this.options.compactRetain,
        pipelineDepth: this.variety.pipelineDepth,
        codec: this.codec,
      },
      this.nodeRandom.next(),
      Math.round(this.options.tickMicros / rate),
    );
    this.nodes.set(id, node);
    const slowDisk = this.nodeRandom.chance(this.options.slowDiskShare);
    if (slowDisk) this.slowDisks.add(id);
    this.log(`n${id} created, clock rate ${rate.toFixed(3)}${slowDisk ? ", slow disk" : ""}`);
    return node;
  }

  startNode(node: SimNode): void {
    node.start();
    this.scheduleTick(node);
    node.process();
  }

  crashNode(node: SimNode): void {
    node.crash();
    node.lastCrashAt = this.now;
    this.log(`n${node.id} crashed`);
  }

  pauseNode(node: SimNode): void {
    node.state = "paused";
    this.log(`n${node.id} paused`);
  }

  resumeNode(node: SimNode): void {
    if (node.state !== "paused") return;
    node.state = "up";
    // A woken process first sees how much time passed (the driver ticks from a monotonic clock),
    // then reads what queued up in its sockets.
    const missed = node.ticksMissed;
    node.ticksMissed = 0;
    for (let i = 0; i < missed; i++) node.raw?.tick();
    this.log(`n${node.id} resumed after ${missed} ticks`);
    const inbox = node.pausedInbox.splice(0);
    for (const run of inbox) {
      if (node.state !== "up") break;
      run();
    }
    node.process();
  }

  /**
   * The store's quiescence policy (shard/group_ticker.ts) at one tick of `node`: a quiet follower
   * wakes once its leader's node has been silent (crashed, paused or cut off from it) for a few
   * ticks, as node heartbeats would tell it; an awake leader idle for quiesceIdleTicks tries to go
   * quiet. Returns true when the node went quiet instead of ticking.
   */
  private quiesceOrWake(node: SimNode): boolean {
    const idleTicksMin = this.variety.quiesceIdleTicks;
    const raw = node.raw!;
    if (idleTicksMin === 0) return false;
    if (raw.quiesced && raw.raft.role !== "leader") {
      const leader = this.nodes.get(raw.raft.lead);
      const silent = leader === undefined || leader.state !== "up" || this.network.isBlocked(leader.id, node.id);
      const ticks = silent ? (this.silentTicks.get(node.id) ?? 0) + 1 : 0;
      this.silentTicks.set(node.id, ticks);
      if (ticks >= SILENT_TICKS_TO_WAKE) {
        this.log(`n${node.id} wakes: leader n${raw.raft.lead}'s node is silent`);
        raw.wake();
      }
      return false;
    }
    const idle = (this.idleTicks.get(node.id) ?? 0) + 1;
    this.idleTicks.set(node.id, idle);
    if (raw.quiesced || idle < idleTicksMin || raw.outstandingCount() > 0 || !raw.quiesce()) return false;
    this.log(`n${node.id} quiesces at index ${raw.raft.log.lastIndex()}`);
    return true;
  }

  private scheduleTick(node: SimNode): void {
    this.queue.after(node.tickPeriod, { kind: "tick", node, epoch: node.epoch });
  }

  runningRafts(): Raft[] {
    const rafts: Raft[] = [];
    for (const node of this.nodes.values()) if (node.raft !== undefined) rafts.push(node.raft);
    return rafts;
  }

  /** The leader with the highest term among running nodes, if any. */
  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const node of this.nodes.values()) {
      const r = node.raft;
      if (node.state === "up" && r?.role === "leader" && (best === undefined || r.term > best.raft!.term)) best = node;
    }
    return best;
  }

  // ---- NodeHost ---------------------------------------------------------------------------------

  send(from: SimNode, ready: Ready, which: "messages" | "persistedMessages"): void {
    for (const message of ready[which]) {
      let delays = this.nodes.has(message.to) ? this.network.deliveries(message.from, message.to) : [];
      // The real store has no request-id table (etcd has none either): its transport never
      // duplicates a forwarded proposal, so the simulation does not either when it runs that machine.
      if (message.type === "prop" && this.codec.kind === "mvcc") delays = delays.slice(0, 1);
      if (delays.length === 0 && message.type === "snap") {
        // The transport notices a snapshot it could not deliver and tells Raft (reportSnapshot).
        this.queue.after(3 * this.options.tickMicros, { kind: "snapshotStatus", from: from.id, to: message.to, delivered: false });
      }
      for (const delay of delays) this.queue.after(delay, { kind: "deliver", message, sentAt: this.now, senderEpoch: from.epoch });
    }
  }

  schedulePersist(node: SimNode, epoch: number, sync: boolean): void {
    const { diskMicrosMin: min, diskMicrosMax: max } = this.options;
    const delay = (sync ? min + this.random.int(max - min + 1) : this.random.int(min + 1)) * (this.slowDisks.has(node.id) ? 8 : 1);
    const at = Math.max(this.now, this.diskFreeAt.get(node.id) ?? 0) + delay;
    this.diskFreeAt.set(node.id, at);
    this.queue.at(at, { kind: "persist", node, epoch });
  }

  onApplied(node: SimNode, entry: Entry): void {
    this.invariants.onApplied(node.id, entry);
  }

  onWriteApplied(node: SimNode, requestId: string, swapped: boolean): void {
    const waiting = this.pending.get(requestId);
    if (waiting === undefined || waiting.node !== node.id) return;
    this.finish(waiting.client, requestId, { swapped });
  }

  onReadReady(node: SimNode, context: string): void {
    const waiting = this.pending.get(context);
    if (waiting === undefined || waiting.node !== node.id) return;
    this.finish(waiting.client, context, { value: node.machine!.read(waiting.key) });
  }

  onReady(node: SimNode, ready: Ready): void {
    if (ready.entries.length > 0 || ready.committedEntries.length > 0 || ready.readStates.length > 0) this.idleTicks.set(node.id, 0);
    if (this.active) this.nemesis.onReady(node, ready);
  }

  onPersisted(node: SimNode, ready: Ready): void {
    if (this.active) this.nemesis.onPersisted(node, ready);
  }

  onRoleMaybeChanged(node: SimNode): void {
    const r = node.raft;
    if (r === undefined) return;
    const role = `${r.role} term ${r.term}${r.role === "follower" && r.lead !== 0 ? ` lead n${r.lead}` : ""}`;
    if (this.roles.get(node.id) === role) return;
    this.roles.set(node.id, role);
    if (r.role === "leader" || r.role === "candidate") this.log(`n${node.id} ${role}`);
    if (r.role === "leader" && this.active) this.nemesis.onNewLeader(node);
  }

  // ---- Events -----------------------------------------------------------------------------------

  private handle(event: SimEvent): void {
    this.stats.events++;
    this.mix(KIND_CODES[event.kind]);
    this.mix(this.now);
    switch (event.kind) {
      case "tick": {
        const { node } = event;
        if (event.epoch !== node.epoch || node.state === "crashed" || node.state === "retired") return;
        this.mix(node.id);
        if (node.state === "paused") node.ticksMissed++;
        else {
          if (!this.quiesceOrWake(node)) node.raw!.tick();
          this.askReadsAgain(node);
          node.process();
        }
        this.scheduleTick(node);
        return;
      }
      case "deliver": {
        const m = event.message;
        this.mix(m.from * 64 + m.to);
        const node = this.nodes.get(m.to);
        const sender = this.nodes.get(m.from);
        // A process that dies takes its unflushed send queue with it: what it sent just before is lost.
        const unflushed = sender !== undefined && sender.epoch !== event.senderEpoch && sender.lastCrashAt < event.sentAt + this.options.sendFlushMicros;
        if (node === undefined || unflushed || this.network.isBlocked(m.from, m.to) || node.state === "crashed" || node.state === "retired") {
          if (m.type === "snap") this.queue.after(3 * this.options.tickMicros, { kind: "snapshotStatus", from: m.from, to: m.to, delivered: false });
          return;
        }
        // A real transport streams a snapshot and learns when the stream finished.
        if (m.type === "snap") this.queue.after(this.options.network.delayMax, { kind: "snapshotStatus", from: m.from, to: m.to, delivered: true });
        const deliver = (): void => {
          node.raw!.step(m);
          node.process();
        };
        if (node.state === "paused") node.pausedInbox.push(deliver);
        else deliver();
        return;
      }
      case "persist": {
        const { node } = event;
        this.mix(node.id);
        if (node.state === "paused") node.pausedInbox.push(() => node.finishPersist(event.epoch));
        else node.finishPersist(event.epoch);
        return;
      }
      case "client":
        this.clientStep(event.client);
        return;
      case "timeout": {
        const { client } = event;
        if (client.inFlight?.requestId !== event.requestId) return;
        // The outcome stays unknown: the write may still apply later, or never.
        this.pending.delete(event.requestId);
        client.inFlight = undefined;
        client.guess = 0;
        this.scheduleClient(client);
        return;
      }
      case "snapshotStatus": {
        const node = this.nodes.get(event.from);
        const report = (): void => {
          node!.raw?.reportSnapshot(event.to, event.delivered);
          node!.process();
        };
        // A paused process finds the transport's report waiting when it wakes.
        if (node?.state === "up") report();
        else if (node?.state === "paused") node.pausedInbox.push(report);
        return;
      }
      case "nemesis":
        if (!this.active) return;
        this.nemesis.act();
        this.queue.after(this.options.nemesisEveryTicks * this.options.tickMicros * (0.5 + this.random.float()), { kind: "nemesis" });
        return;
      case "call":
        event.run();
        return;
    }
  }

  private afterEvent(): void {
    const rafts = this.runningRafts();
    const awake: Raft[] = [];
    for (const node of this.nodes.values()) if (node.state === "up" && node.raft !== undefined) awake.push(node.raft);
    this.invariants.afterEvent(rafts, awake);
    if (this.stats.events % 2000 === 0) this.invariants.checkLogMatching(rafts);
  }

  private mix(value: number): void {
    // FNV-1a over the event stream: two runs of a seed that diverge anywhere get different hashes.
    let h = this.hash;
    let v = Math.floor(value) >>> 0;
    for (let i = 0; i < 4; i++) {
      h ^= v & 0xff;
      h = Math.imul(h, 0x01000193);
      v >>>= 8;
    }
    this.hash = h >>> 0;
  }

  // ---- Set-up, clients and the end ----------------------------------------------------------------

  private setUp(): void {
    const v = this.variety;
    this.log(`limits: appendBytesMax ${v.appendBytesMax}, inflightMessagesMax ${v.inflightMessagesMax}, pipelineDepth ${v.pipelineDepth}`);
    const voters = Array.from({ length: this.options.nodes }, (_, i) => i + 1);
    for (const id of voters) {
      const node = this.addNode(id);
      bootstrap(node, voters);
      this.startNode(node);
    }
    for (let i = 0; i < this.options.clients; i++) {
      const client: SimClient = { id: i + 1, seq: 0, guess: 0, inFlight: undefined };
      this.clients.push(client);
      this.scheduleClient(client);
    }
    this.queue.after(this.options.nemesisEveryTicks * this.options.tickMicros, { kind: "nemesis" });
  }

  private scheduleClient(client: SimClient): void {
    if (!this.active) return;
    this.queue.after(this.clientRandom.int(this.options.tickMicros), { kind: "client", client });
  }

  /** Members that clients may talk to. */
  members(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.state !== "retired");
  }

  private clientStep(client: SimClient): void {
    if (!this.active || client.inFlight !== undefined) return;
    const rnd = this.clientRandom;
    const key = `k${rnd.int(this.options.keys)}`;
    const requestId = `c${client.id}-${++client.seq}`;
    const members = this.members();
    const guessed = this.nodes.get(client.guess);
    const node = guessed !== undefined && guessed.state !== "retired" ? guessed : rnd.pick(members);
    const dice = rnd.float();
    const call = this.now;
    let op: Operation;
    if (dice < 0.35) op = this.history.invoke({ client: client.id, key, kind: "write", call, value: requestId });
    else if (dice < 0.55) {
      const expected = rnd.chance(0.3) ? null : `c${rnd.int(this.options.clients) + 1}-${Math.max(1, client.seq - rnd.int(4))}`;
      op = this.history.invoke({ client: client.id, key, kind: "cas", call, value: requestId, expected });
    } else op = this.history.invoke({ client: client.id, key, kind: "read", call });
    client.inFlight = { op, requestId, node: node.id };
    this.pending.set(requestId, { client, node: node.id, key });
    this.queue.after(this.options.clientTimeoutTicks * this.options.tickMicros, { kind: "timeout", client, requestId });
    const submit = (): void => this.submit(client, node, op, requestId);
    if (node.state === "paused") node.pausedInbox.push(submit);
    else submit();
  }

  private submit(client: SimClient, node: SimNode, op: Operation, requestId: string): void {
    const raw = node.raw;
    if (client.inFlight?.requestId !== requestId) return;
    if (raw === undefined || node.state !== "up") {
      this.refuse(client, requestId); // connection refused: it never reached Raft
      return;
    }
    if (op.kind === "read") {
      const lease = this.clientRandom.chance(this.options.leaseReadShare);
      const result = raw.readIndex(requestId, lease);
      if (result.kind === "dropped") return this.refuse(client, requestId, raw.raft.lead);
      const waiting = this.pending.get(requestId);
      if (waiting !== undefined) waiting.read = { lease, epoch: node.epoch, askedAt: this.now, lead: raw.raft.lead, term: raw.raft.term };
      this.noteLeaseRead(raw, requestId, lease);
    } else {
      const data =
        op.kind === "write"
          ? this.codec.encode({ op: "put", id: requestId, key: op.key, value: op.value! }, this.now)
          : this.codec.encode({ op: "cas", id: requestId, key: op.key, expected: op.expected ?? null, value: op.value! }, this.now);
      const result = raw.propose([data]);
      if (result.kind === "dropped") return this.refuse(client, requestId, raw.raft.lead);
    }
    node.process();
  }

  private noteLeaseRead(raw: RawNode, context: string, lease: boolean): void {
    if (lease && raw.raft.readStates.some((rs) => rs.context === context)) {
      this.stats.leaseReads++;
      this.invariants.checkLeaseRead(raw.raft, this.runningRafts());
    }
  }

  /**
   * The store's driver (shard/read_waiters.ts): Raft drops a read-index request that meets a change
   * of leader or a lost message without a word, so a read still waiting is asked again, under the
   * same context, when the node's leader or term changed or after `readRetryTicks`. Whichever
   * request is answered first serves it: the checker then proves that any of them is safe.
   */
  private askReadsAgain(node: SimNode): void {
    const raw = node.raw;
    const retryMicros = this.options.readRetryTicks * this.options.tickMicros;
    if (raw === undefined || node.state !== "up" || retryMicros === 0) return;
    for (const [requestId, waiting] of this.pending) {
      const read = waiting.read;
      if (read === undefined || waiting.node !== node.id || read.epoch !== node.epoch) continue;
      const changed = raw.raft.lead !== read.lead || raw.raft.term !== read.term;
      if (!changed && this.now - read.askedAt < retryMicros) continue;
      Object.assign(read, { askedAt: this.now, lead: raw.raft.lead, term: raw.raft.term });
      // Without a leader the request is refused at once; it is asked again at a later tick.
      if (raw.readIndex(requestId, read.lease).kind === "dropped") continue;
      this.stats.readsAskedAgain++;
      this.noteLeaseRead(raw, requestId, read.lease);
    }
  }

  private refuse(client: SimClient, requestId: string, lead: NodeId = 0): void {
    const inFlight = client.inFlight;
    if (inFlight === undefined || inFlight.requestId !== requestId) return;
    this.history.fail(inFlight.op, this.now);
    this.pending.delete(requestId);
    client.inFlight = undefined;
    client.guess = lead;
    this.scheduleClient(client);
  }

  private finish(client: SimClient, requestId: string, result: { value?: string | null; swapped?: boolean }): void {
    const inFlight = client.inFlight;
    if (inFlight === undefined || inFlight.requestId !== requestId) return;
    this.history.complete(inFlight.op, this.now, inFlight.op.kind === "cas" ? { swapped: result.swapped! } : inFlight.op.kind === "read" ? { value: result.value ?? null } : {});
    this.pending.delete(requestId);
    client.inFlight = undefined;
    client.guess = this.nodes.get(inFlight.node)?.raft?.lead ?? 0;
    this.scheduleClient(client);
  }

  private endActivePhase(): void {
    this.active = false;
    this.log("active phase over: healing everything");
    this.nemesis.healAll();
  }

  private async finalChecks(): Promise<void> {
    const rafts = this.runningRafts();
    this.invariants.checkLogMatching(rafts);
    await this.checkConvergence();
    const verdict = checkHistory(this.history.operations);
    if (verdict.kind === "violation") throw new InvariantViolation(`linearizability on key ${verdict.key}: ${verdict.message}; minimal: ${JSON.stringify(verdict.minimal)}`);
    if (verdict.kind === "unknown") this.log(`linearizability check gave up: ${verdict.reason}`);
    this.checkNotVacuous();
  }

  private async digestOf(node: SimNode): Promise<string> {
    let digest = "";
    node.machine!.digest((d) => {
      digest = d;
    });
    await this.settle();
    return digest;
  }

  /** After healing, every member must have applied the same state: for the real machine, the same state hash. */
  private async checkConvergence(): Promise<void> {
    const leader = this.leader();
    if (leader === undefined) throw new InvariantViolation(`liveness: no leader ${this.options.quietTicks} ticks after healing`);
    const config = leader.raft!.currentConfiguration();
    const digest = await this.digestOf(leader);
    const commit = leader.raft!.log.committed;
    for (const id of [...config.voters, ...config.learners]) {
      const node = this.nodes.get(id);
      const r = node?.raft;
      if (node?.state === "retired") {
        // Node ids are never reused, so a removal that a committed configuration made cannot be undone.
        throw new InvariantViolation(`membership safety: n${id} was removed by a committed configuration, yet leader n${leader.id} counts it as a member`);
      }
      if (node === undefined || r === undefined) throw new InvariantViolation(`liveness: member n${id} is not running after healing`);
      if (r.log.applied < commit || leader.raft!.log.applied < commit) {
        throw new InvariantViolation(`liveness: n${id} applied ${r.log.applied} of ${commit} committed, ${this.options.quietTicks} ticks after healing`);
      }
      if ((await this.digestOf(node)) !== digest) throw new InvariantViolation(`replica divergence: n${id}'s state differs from leader n${leader.id}'s at index ${commit}`);
    }
  }

  private checkNotVacuous(): void {
    const ok = this.history.count("ok");
    if (ok < this.options.minOkOperations) throw new InvariantViolation(`vacuous run: only ${ok} operations succeeded (want ${this.options.minOkOperations})`);
    for (const kind of this.options.faults) {
      if ((this.stats.faults[kind] ?? 0) === 0) throw new InvariantViolation(`vacuous run: no ${kind} fault was injected`);
    }
    if (this.options.faults.length > 0 && this.invariants.leaderElections < 2) throw new InvariantViolation("vacuous run: leadership never changed");
  }
}

/** Writes a new group's first entries to a node's disk, as a real bootstrap does. */
function bootstrap(node: SimNode, voters: readonly NodeId[]): void {
  const { entries, hardState } = bootstrapEntriesFor(voters);
  node.storage.append(entries);
  node.storage.setHardState(hardState);
}
