// A small synchronous harness for the Raft core's story tests: nodes on MemoryStorage, messages
// delivered in order, every Ready persisted, sent and applied at once unless a test holds a node
// back. Time only moves when a test ticks.

import {
  type Entry,
  MemoryStorage,
  type Message,
  NONE,
  type NodeId,
  Raft,
  type RaftOptions,
  RawNode,
  type ReadState,
  SeededRandom,
  bootstrapEntries,
} from "../../raft/index.js";

export type ClusterOptions = Partial<Omit<RaftOptions, "id" | "storage" | "random">> & {
  readonly make?: (options: RaftOptions) => Raft;
  readonly seed?: number;
};

export class TestNode {
  readonly applied: Entry[] = [];
  readonly readStates: ReadState[] = [];
  raw: RawNode;

  constructor(
    readonly id: NodeId,
    readonly storage: MemoryStorage,
    private readonly build: (storage: MemoryStorage) => RawNode,
  ) {
    this.raw = build(storage);
  }

  get raft(): Raft {
    return this.raw.raft;
  }

  /** Loses everything not on the "disk" and starts again from it. */
  restart(): void {
    this.raw = this.build(this.storage);
  }
}

export class TestCluster {
  readonly nodes = new Map<NodeId, TestNode>();
  /** Messages sent and not yet delivered, in order. */
  queue: Message[] = [];
  /** Links that drop messages: "from>to". */
  readonly cut = new Set<string>();
  /** Nodes whose Readies are not processed until released (their disk is stuck). */
  readonly held = new Set<NodeId>();

  constructor(
    voters: readonly NodeId[],
    readonly options: ClusterOptions = {},
    learners: readonly NodeId[] = [],
  ) {
    for (const id of [...voters, ...learners]) this.addNode(id, voters);
  }

  addNode(id: NodeId, bootstrapVoters: readonly NodeId[] | undefined): TestNode {
    const storage = new MemoryStorage();
    if (bootstrapVoters !== undefined && bootstrapVoters.includes(id)) {
      const { entries, hardState } = bootstrapEntries(bootstrapVoters);
      storage.append(entries);
      storage.setHardState(hardState);
    }
    const random = new SeededRandom((this.options.seed ?? 1) * 1000 + id);
    const { make, seed: _seed, ...raftOptions } = this.options;
    const build = (s: MemoryStorage): RawNode => {
      const options: RaftOptions = { ...raftOptions, id, storage: s, random: random.split(), applied: s.snapshot().meta.index };
      return new RawNode(make !== undefined ? make(options) : new Raft(options));
    };
    const node = new TestNode(id, storage, build);
    this.nodes.set(id, node);
    return node;
  }

  node(id: NodeId): TestNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  raft(id: NodeId): Raft {
    return this.node(id).raft;
  }

  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) {
      if (other === id) continue;
      this.cut.add(`${id}>${other}`);
      this.cut.add(`${other}>${id}`);
    }
  }

  heal(): void {
    this.cut.clear();
  }

  /** Processes one node's Ready, if it has one and is not held. */
  processReady(id: NodeId): boolean {
    const node = this.node(id);
    if (this.held.has(id) || !node.raw.hasReady()) return false;
    const rd = node.raw.ready();
    this.queue.push(...rd.messages);
    if (rd.snapshot !== undefined) node.storage.applySnapshot(rd.snapshot);
    node.storage.append(rd.entries);
    if (rd.hardState !== undefined) node.storage.setHardState(rd.hardState);
    this.queue.push(...rd.persistedMessages);
    node.applied.push(...rd.committedEntries.filter((e) => e.type === "normal" && e.data.byteLength > 0));
    node.readStates.push(...rd.readStates);
    node.raw.advance();
    return true;
  }

  /** Delivers messages and processes Readies until nothing moves. */
  stabilize(limit = 10_000): void {
    for (let i = 0; i < limit; i++) {
      let moved = false;
      for (const id of this.nodes.keys()) moved = this.processReady(id) || moved;
      const batch = this.queue;
      this.queue = [];
      for (const m of batch) {
        moved = true;
        if (this.cut.has(`${m.from}>${m.to}`)) continue;
        this.nodes.get(m.to)?.raw.step(m);
      }
      if (!moved) return;
    }
    throw new Error("cluster did not stabilize");
  }

  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) this.node(id).raw.tick();
  }

  tickAll(times = 1): void {
    for (let i = 0; i < times; i++) {
      for (const node of this.nodes.values()) node.raw.tick();
      this.stabilize();
    }
  }

  /** Makes `id` leader: it campaigns, everything is delivered. */
  elect(id: NodeId): void {
    // A fresh replica refuses votes for an election timeout after it starts (the lease's promise).
    for (const node of this.nodes.values()) node.raft.leaderContactElapsed = node.raft.config.electionTicks;
    this.node(id).raw.campaign();
    this.stabilize();
    if (this.raft(id).role !== "leader") throw new Error(`node ${id} did not become leader (it is ${this.raft(id).role})`);
  }

  /**
   * Makes `id` leader (PreVote must be off) and then cuts everything it sends, so that its first
   * entry of the term cannot commit.
   */
  electCutOff(id: NodeId): void {
    for (const node of this.nodes.values()) node.raft.leaderContactElapsed = node.raft.config.electionTicks;
    this.node(id).raw.campaign();
    this.processReady(id);
    for (const m of this.queue.splice(0)) this.nodes.get(m.to)?.raw.step(m);
    for (const other of this.nodes.keys()) if (other !== id) this.processReady(other);
    for (const other of this.nodes.keys()) if (other !== id) this.cut.add(`${id}>${other}`);
    this.stabilize();
    if (this.raft(id).role !== "leader") throw new Error(`node ${id} did not become leader`);
  }

  leader(): TestNode | undefined {
    let best: TestNode | undefined;
    for (const node of this.nodes.values()) {
      if (node.raft.role === "leader" && (best === undefined || node.raft.term > best.raft.term)) best = node;
    }
    return best;
  }

  propose(id: NodeId, text: string): ReturnType<RawNode["propose"]> {
    return this.node(id).raw.propose([new TextEncoder().encode(text)]);
  }

  /** The texts of the normal entries a node applied. */
  appliedTexts(id: NodeId): string[] {
    return this.node(id).applied.map((e) => new TextDecoder().decode(e.data));
  }
}

export { NONE };
