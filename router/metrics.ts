// The node's Prometheus metrics (prom-client, in a registry of its own so that several nodes can share
// a process in tests): the process's default metrics, and shardkv's, read from the store when scraped.
// The request path only bumps the store's plain counters (Store.counts); everything here is computed
// at scrape time, so an unscraped node pays nothing. Per-shard series are bounded (shardSeriesMax).

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { NONE } from "../raft/index.js";
import type { Store } from "../shard/store.js";
import type { Wal } from "../shard/wal/wal.js";
import { type EtcdMetricsSources, FSYNC_BUCKETS_S, registerEtcdMetrics } from "./etcd_metrics.js";
import { GrpcCallStats } from "./grpc_call_stats.js";

export interface NodeMetricsOptions extends EtcdMetricsSources {
  /** The process's CPU, memory, event loop and GC metrics (prom-client's defaults). */
  readonly defaultMetrics?: boolean;
  /** Shards that get series of their own (term, commit, applied), lowest ids first; totals cover every shard. */
  readonly shardSeriesMax?: number;
}

/** 3 gauges per shard: 4096 shards make 12,288 series, about 1 MiB of text per scrape. */
export const SHARD_SERIES_MAX_DEFAULT = 4096;

export class NodeMetrics {
  readonly registry = new Registry();
  /** The client port's unary calls by method and status: the node counts its services through it. */
  readonly grpcCalls = new GrpcCallStats(this.registry);
  private readonly fsyncSeconds: Histogram;
  private readonly etcdFsyncSeconds: Histogram;
  private readonly walBytes: Counter;

  constructor(store: Store, options: NodeMetricsOptions = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    const seriesMax = options.shardSeriesMax ?? SHARD_SERIES_MAX_DEFAULT;

    // One collect fills every shard gauge, so that a scrape walks the shards once; the registry
    // collects metrics in registration order, so this one is registered before the gauges it fills
    // (they are declared below it and only read when a scrape calls this).
    new Gauge({
      name: "shardkv_shards_total",
      help: "Shard replicas hosted by this node",
      registers,
      collect(this: Gauge) {
        term.reset();
        commit.reset();
        applied.reset();
        const groups = store.groups();
        let leading = 0;
        let unled = 0;
        let quiet = 0;
        for (const [i, group] of groups.entries()) {
          const replica = store.replica(group);
          const { raft } = replica.raw;
          if (raft.role === "leader") leading++;
          if (raft.lead === NONE) unled++;
          if (raft.quiesced) quiet++;
          if (i >= seriesMax) continue;
          const labels = { shard: String(group) };
          term.set(labels, raft.term);
          commit.set(labels, raft.log.committed);
          applied.set(labels, replica.state.applied.index);
        }
        this.set(groups.length);
        leaders.set(leading);
        leaderless.set(unled);
        quiesced.set(quiet);
      },
    });

    const term = new Gauge({ name: "shardkv_raft_term", help: "Raft term of each shard's replica", labelNames: ["shard"], registers });
    const commit = new Gauge({ name: "shardkv_raft_commit_index", help: "Raft commit index of each shard's replica", labelNames: ["shard"], registers });
    const applied = new Gauge({ name: "shardkv_raft_applied_index", help: "Index the state machine of each shard's replica applied", labelNames: ["shard"], registers });
    const leaders = new Gauge({ name: "shardkv_shard_leaders", help: "Shards this node leads", registers });
    const leaderless = new Gauge({ name: "shardkv_shards_without_leader", help: "Shard replicas on this node that know no leader", registers });
    const quiesced = new Gauge({ name: "shardkv_shards_quiesced", help: "Shard replicas on this node that are idle and not ticking (raft/quiescence.ts)", registers });

    new Counter({ name: "shardkv_proposals_total", help: "Proposals accepted by this node's replicas (client writes and leader housekeeping)", registers, collect: catchUp(() => store.counts.proposals) });
    const linearizable = catchUp(() => store.counts.linearizableReads, "linearizable");
    const serializable = catchUp(() => store.counts.serializableReads, "serializable");
    new Counter({
      name: "shardkv_reads_total",
      help: "Reads served from this node's replicas, by consistency",
      labelNames: ["consistency"],
      registers,
      collect(this: Counter<"consistency">) {
        linearizable.call(this);
        serializable.call(this);
      },
    });

    // Batching, read against each other: entries per Ready, messages per proposal.
    new Counter({ name: "shardkv_raft_readies_total", help: "Raft Readies this node's replicas handled (one per shard and turn with work)", registers, collect: catchUp(() => store.counts.readies) });
    new Counter({ name: "shardkv_raft_entries_written_total", help: "Raft log entries this node's replicas wrote to the write-ahead log", registers, collect: catchUp(() => store.counts.entriesWritten) });
    new Counter({ name: "shardkv_raft_entries_committed_total", help: "Committed Raft log entries this node's replicas handed to their state machines", registers, collect: catchUp(() => store.counts.entriesCommitted) });
    new Counter({ name: "shardkv_raft_messages_sent_total", help: "Raft messages this node's replicas sent to their peers (before the transport batches them per peer)", registers, collect: catchUp(() => store.counts.raftMessages) });

    this.fsyncSeconds = new Histogram({ name: "shardkv_wal_fsync_duration_seconds", help: "Time of the write-ahead log's fdatasync calls, one observation per group commit", buckets: FSYNC_BUCKETS_S, registers });
    this.walBytes = new Counter({ name: "shardkv_wal_written_bytes_total", help: "Bytes written to the write-ahead log", registers });
    this.etcdFsyncSeconds = registerEtcdMetrics(this.registry, store, options);
  }

  /** Observes the WAL's group commits: one histogram observation per fdatasync round, not per record. */
  observeWal(wal: Wal): void {
    wal.observeSyncs((fsyncMs, bytes) => {
      this.fsyncSeconds.observe(fsyncMs / 1000);
      this.etcdFsyncSeconds.observe(fsyncMs / 1000);
      this.walBytes.inc(bytes);
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text exposition of every metric, as Prometheus scrapes it. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/**
 * A Counter's collect that adds what a plain cumulative number gained since the last scrape: the store
 * counts without knowing prom-client, and prom-client keeps its own monotonic total.
 */
function catchUp(read: () => number, consistency?: string): (this: Counter<"consistency">) => void {
  let seen = 0;
  return function (this: Counter<"consistency">): void {
    const now = read();
    if (now > seen) {
      if (consistency === undefined) this.inc(now - seen);
      else this.inc({ consistency }, now - seen);
    }
    seen = now;
  };
}
