// One simulated replica: a real RawNode over a MemoryStorage "disk" whose writes take simulated time
// and are lost if the node crashes first, a KvMachine, and the client requests waiting on them.
// It follows raw_node.ts's contract to the letter, so that the simulator tests the driver's rules too.

import { type Entry, MemoryStorage, type NodeId, type Raft, type RaftOptions, RawNode, type Ready, SeededRandom } from "../../raft/index.js";
import type { MachineCodec, SimMachine } from "./sim_machine.js";

export type NodeState = "up" | "paused" | "crashed" | "retired";

export type RaftFactory = (options: RaftOptions) => Raft;

/** What a node needs from the simulation around it. */
export interface NodeHost {
  readonly now: number;
  send(from: SimNode, ready: Ready, which: "messages" | "persistedMessages"): void;
  /** Calls `node.finishPersist(epoch)` after a simulated disk latency, after every earlier write of the node. */
  schedulePersist(node: SimNode, epoch: number, sync: boolean): void;
  onApplied(node: SimNode, entry: Entry): void;
  onWriteApplied(node: SimNode, requestId: string, swapped: boolean): void;
  onReadReady(node: SimNode, context: string): void;
  onRoleMaybeChanged(node: SimNode): void;
  /** A Ready was taken and its first messages sent. */
  onReady(node: SimNode, ready: Ready): void;
  /** A Ready's writes are durable, its entries applied and its clients answered. */
  onPersisted(node: SimNode, ready: Ready): void;
}

export interface NodeSettings {
  readonly raftOptions: Omit<RaftOptions, "id" | "storage" | "random" | "applied">;
  readonly makeRaft: RaftFactory;
  /** Take a snapshot and compact after this many applied entries. */
  readonly compactEvery: number;
  /** Entries kept behind a snapshot, so that slow followers often but not always avoid one. */
  readonly compactRetain: number;
  /** Readies the node may have on its disk queue at once (1: strictly one at a time). */
  readonly pipelineDepth: number;
  readonly codec: MachineCodec;
}

export class SimNode {
  readonly storage = new MemoryStorage();
  state: NodeState = "crashed";
  raw: RawNode | undefined;
  /** The state machine; undefined while it is being restored from a snapshot. */
  machine: SimMachine | undefined;
  /** Bumped at every crash: a persist scheduled before it must not land after it. */
  epoch = 0;
  /** When the node last crashed (simulated microseconds). */
  lastCrashAt = -1;
  /** The rest of a Ready's contract is under way (asynchronously, with the real state machine). */
  private busy = false;
  private readonly waitingForIdle: (() => void)[] = [];
  /** Readies handed to the disk, oldest first; their writes complete in this order. */
  private readonly inFlight: Ready[] = [];
  /** Tick period in simulated microseconds: the base period over this node's clock rate. */
  tickPeriod: number;
  ticksMissed = 0;
  /** Messages and client calls that reach a paused node wait here, as in a socket buffer. */
  readonly pausedInbox: (() => void)[] = [];
  /** Read contexts waiting for the state machine to reach their index. */
  private readonly readsWaiting: { index: number; context: string }[] = [];
  private readonly random: SeededRandom;

  constructor(
    readonly id: NodeId,
    private readonly host: NodeHost,
    private readonly settings: NodeSettings,
    seed: number,
    tickPeriod: number,
  ) {
    this.random = new SeededRandom(seed);
    this.tickPeriod = tickPeriod;
  }

  get raft(): Raft | undefined {
    return this.raw?.raft;
  }

  /** Starts (or restarts) from whatever the disk holds. */
  start(): void {
    const snapshot = this.storage.snapshot();
    this.machine = undefined;
    const epoch = this.epoch;
    this.settings.codec.restore(snapshot.data, (machine) => {
      if (epoch !== this.epoch) return;
      this.machine = machine;
      this.process();
    });
    const raft = this.settings.makeRaft({
      ...this.settings.raftOptions,
      id: this.id,
      storage: this.storage,
      random: this.random.split(),
      applied: snapshot.meta.index,
    });
    this.raw = new RawNode(raft);
    this.state = "up";
    this.inFlight.length = 0;
    this.readsWaiting.length = 0;
    this.pausedInbox.length = 0;
    this.ticksMissed = 0;
  }

  crash(): void {
    this.raw = undefined;
    this.machine = undefined;
    this.busy = false;
    this.waitingForIdle.length = 0;
    this.inFlight.length = 0;
    this.readsWaiting.length = 0;
    this.pausedInbox.length = 0;
    this.state = "crashed";
    this.epoch++;
  }

  /** Hands Readies to the disk while there are some and the pipeline has room. */
  process(): void {
    const raw = this.raw;
    while (this.state === "up" && raw !== undefined && this.machine !== undefined && this.inFlight.length < this.settings.pipelineDepth && raw.hasReady()) {
      const ready = raw.ready();
      this.inFlight.push(ready);
      if (ready.softState !== undefined) this.host.onRoleMaybeChanged(this);
      this.host.send(this, ready, "messages");
      this.host.onReady(this, ready);
      if (this.state !== "up") return;
      const writes = ready.entries.length > 0 || ready.hardState !== undefined || ready.snapshot !== undefined;
      if (writes || this.inFlight.length > 1) this.host.schedulePersist(this, this.epoch, ready.mustSync);
      else this.finishPersist(this.epoch);
    }
  }

  /**
   * The disk write of the oldest Ready in flight completed: do the rest of the contract. With the real
   * state machine the rest finishes asynchronously; a second completion (a paused node wakes to several)
   * waits for the first, so Readies are applied and advanced one at a time, in order.
   */
  finishPersist(epoch: number): void {
    if (this.busy) {
      this.waitingForIdle.push(() => this.finishPersist(epoch));
      return;
    }
    const raw = this.raw;
    if (epoch !== this.epoch || raw === undefined) return;
    const ready = this.inFlight.shift();
    if (ready === undefined) return;
    this.busy = true;
    const idle = (): void => {
      if (epoch !== this.epoch) return; // a crash already reset the node
      this.busy = false;
      const next = this.waitingForIdle.shift();
      if (next !== undefined) next();
    };
    const rest = (): void => {
      if (epoch !== this.epoch) return idle();
      this.storage.append(ready.entries);
      if (ready.hardState !== undefined) this.storage.setHardState(ready.hardState);
      this.host.send(this, ready, "persistedMessages");
      for (const entry of ready.committedEntries) this.host.onApplied(this, entry);
      this.machine!.apply(ready.committedEntries, (index) => raw.confStateAt(index), (writes) => {
        if (epoch !== this.epoch) return idle();
        for (const write of writes) this.host.onWriteApplied(this, write.id, write.swapped);
        for (const rs of ready.readStates) this.readsWaiting.push(rs);
        raw.advance();
        this.serveReads();
        this.host.onPersisted(this, ready);
        if (this.state !== "up") return idle();
        this.maybeCompact(epoch, () => {
          idle();
          this.host.onRoleMaybeChanged(this);
          this.process();
        });
      });
    };
    if (ready.snapshot === undefined) return rest();
    this.storage.applySnapshot(ready.snapshot);
    this.machine = undefined;
    this.settings.codec.restore(ready.snapshot.data, (machine) => {
      if (epoch !== this.epoch) return idle();
      this.machine = machine;
      rest();
    });
  }

  private appliedIndex(): number {
    return this.raw?.raft.log.applied ?? 0;
  }

  private serveReads(): void {
    // Applied moves in advance(); reads wait for the index their ReadState names.
    const applied = this.appliedIndex();
    let kept = 0;
    for (const read of this.readsWaiting) {
      if (read.index <= applied) this.host.onReadReady(this, read.context);
      else this.readsWaiting[kept++] = read;
    }
    this.readsWaiting.length = kept;
  }

  private maybeCompact(epoch: number, then: () => void): void {
    const raw = this.raw;
    if (raw === undefined) return then();
    const applied = raw.raft.log.applied;
    const snapshotIndex = this.storage.snapshot().meta.index;
    if (applied - snapshotIndex < this.settings.compactEvery || applied > this.storage.lastIndex()) return then();
    this.machine!.serialize((data) => {
      if (epoch !== this.epoch) return then();
      this.storage.createSnapshot(applied, raw.confStateAt(applied), data);
      const compactTo = applied - this.settings.compactRetain;
      if (compactTo > this.storage.firstIndex()) this.storage.compact(compactTo);
      then();
    });
  }
}
