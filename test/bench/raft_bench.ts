// `npm run bench:raft`: the Raft core alone. Three replicas in one process, no I/O: every Ready is
// "persisted" to a MemoryStorage and its messages delivered at once. Reports committed 100-byte
// proposals per second at batch sizes 1, 16 and 256, and heap bytes allocated per proposal. Ends with
// one JSON line for the best batch size.

import { PerformanceObserver } from "node:perf_hooks";
import { MemoryStorage, type Message, NONE, Raft, RawNode, SeededRandom, bootstrapEntries } from "../../raft/index.js";

const PROPOSAL_BYTES = 100;
const SECONDS_PER_SIZE = Number(process.env["BENCH_SECONDS"] ?? 3);

class BenchCluster {
  readonly nodes: RawNode[] = [];
  readonly storages: MemoryStorage[] = [];
  applied = 0;
  private queue: Message[] = [];

  constructor() {
    const voters = [1, 2, 3];
    const { entries, hardState } = bootstrapEntries(voters);
    for (const id of voters) {
      const storage = new MemoryStorage();
      storage.append(entries);
      storage.setHardState(hardState);
      this.storages.push(storage);
      // Large in-flight limits: this measures the core, not flow control.
      this.nodes.push(new RawNode(new Raft({ id, storage, random: new SeededRandom(id), appendBytesMax: 4 << 20, inflightMessagesMax: 1024 })));
    }
    // Replicas refuse votes for an election timeout after they start (the lease's promise).
    for (let t = 0; t < 10; t++) for (const node of this.nodes) node.tick();
    this.nodes[0]!.campaign();
    this.drive();
    if (this.nodes[0]!.raft.role !== "leader") throw new Error("node 1 did not become leader");
  }

  /** Persists, sends and applies until nothing moves. */
  drive(): void {
    for (;;) {
      let moved = false;
      for (let i = 0; i < this.nodes.length; i++) {
        const node = this.nodes[i]!;
        if (!node.hasReady()) continue;
        moved = true;
        const rd = node.ready();
        for (const m of rd.messages) this.queue.push(m);
        const storage = this.storages[i]!;
        if (rd.entries.length > 0) storage.append(rd.entries);
        if (rd.hardState !== undefined) storage.setHardState(rd.hardState);
        for (const m of rd.persistedMessages) this.queue.push(m);
        if (i === 0) this.applied += rd.committedEntries.length;
        node.advance();
        // Keep the log short, as a real node compacts behind its snapshots.
        const applied = node.raft.log.applied;
        if (applied - storage.firstIndex() > 20_000) {
          storage.createSnapshot(applied, node.confStateAt(applied), new Uint8Array(0));
          storage.compact(applied - 1000);
        }
      }
      const batch = this.queue;
      this.queue = [];
      for (const m of batch) {
        moved = true;
        this.nodes[m.to - 1]!.step(m);
      }
      if (!moved) return;
    }
  }
}

function run(batch: number, seconds: number): { proposalsPerSecond: number; bytesPerProposal: number | undefined } {
  const cluster = new BenchCluster();
  const leader = cluster.nodes[0]!;
  const payloads = Array.from({ length: batch }, (_, i) => new Uint8Array(PROPOSAL_BYTES).fill(i & 0xff));
  const turn = (): void => {
    const result = leader.propose(payloads);
    if (result.kind !== "appended") throw new Error(`proposal ${result.kind}`);
    cluster.drive();
  };
  // Warm up the JIT.
  const warmEnd = performance.now() + 500;
  while (performance.now() < warmEnd) turn();

  // Allocation: heap growth over a short sample during which no garbage collection ran.
  let gcs = 0;
  const observer = new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  });
  observer.observe({ entryTypes: ["gc"] });
  const sampleProposals = Math.max(2_000, batch * 20);
  const heapBefore = process.memoryUsage().heapUsed;
  const appliedBefore = cluster.applied;
  while (cluster.applied - appliedBefore < sampleProposals) turn();
  const heapAfter = process.memoryUsage().heapUsed;
  const sampled = cluster.applied - appliedBefore;
  observer.disconnect();
  const bytesPerProposal = gcs === 0 ? (heapAfter - heapBefore) / sampled : undefined;

  const start = performance.now();
  const appliedStart = cluster.applied;
  const end = start + seconds * 1000;
  while (performance.now() < end) turn();
  const elapsed = (performance.now() - start) / 1000;
  if (leader.raft.lead === NONE) throw new Error("lost the leader");
  return { proposalsPerSecond: (cluster.applied - appliedStart) / elapsed, bytesPerProposal };
}

const results: { batch: number; proposalsPerSecond: number; bytesPerProposal: number | undefined }[] = [];
process.stdout.write(`Raft core, 3 replicas in one process, ${PROPOSAL_BYTES}-byte proposals, ${SECONDS_PER_SIZE}s per batch size\n`);
process.stdout.write("batch  committed proposals/s  heap bytes allocated/proposal\n");
for (const batch of [1, 16, 256]) {
  const r = run(batch, SECONDS_PER_SIZE);
  results.push({ batch, ...r });
  const alloc = r.bytesPerProposal === undefined ? "n/a (a GC ran in the sample)" : r.bytesPerProposal.toFixed(0);
  process.stdout.write(`${String(batch).padStart(5)}  ${Math.round(r.proposalsPerSecond).toLocaleString("en-US").padStart(21)}  ${alloc.padStart(29)}\n`);
}
const best = results.reduce((a, b) => (b.proposalsPerSecond > a.proposalsPerSecond ? b : a));
process.stdout.write(`${JSON.stringify({ proposals_per_s: Math.round(best.proposalsPerSecond), batch: best.batch })}\n`);
