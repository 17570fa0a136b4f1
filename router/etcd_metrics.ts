// etcd's own metric names beside shardkv's, so that the dashboards and alerts written for etcd (the
// etcd mixin's etcdNoLeader, etcdHighNumberOfLeaderChanges, etcdHighFsyncDurations, its Grafana
// board) work on a node as they are. Each is what etcd means by it, over every shard this node holds:
// has_leader is 0 while any of them knows no leader; the commit and applied "totals" are, as in etcd,
// gauges of Raft indexes (summed over the shards, so their rates are the node's commit and apply
// rates); is_leader speaks for the first data shard, as Maintenance.Status does. Series that would
// need a fake (a backend commit histogram, a quota) are left out rather than made up.

import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { NONE } from "../raft/index.js";
import type { Store } from "../shard/store.js";
import { ETCD_COMPATIBLE_VERSION } from "./maintenance_service.js";

export interface EtcdMetricsSources {
  /** Whether this node leads the shard that stands for etcd's one Raft group (the first data shard). */
  readonly isLeader?: () => boolean;
  /** The database's bytes on disk (etcd_mvcc_db_total_size_in_bytes); the series is absent without it. */
  readonly dbSizeBytes?: () => Promise<number>;
}

/** etcd's WAL fsync buckets: 1 ms doubling to about 8 s. */
export const FSYNC_BUCKETS_S = Array.from({ length: 14 }, (_, i) => 0.001 * 2 ** i);

/** Registers etcd's series in `registry`; the returned histogram takes each WAL fsync, in seconds. */
export function registerEtcdMetrics(registry: Registry, store: Store, sources: EtcdMetricsSources = {}): Histogram {
  const registers = [registry];
  // One walk of the replicas fills the gauges below it (collected in registration order).
  new Gauge({
    name: "etcd_server_has_leader",
    help: "Whether every shard replica on this node knows a leader (1) or not (0)",
    registers,
    collect(this: Gauge) {
      let unled = 0;
      let committed = 0;
      let applied = 0;
      let pending = 0;
      for (const group of store.groups()) {
        const replica = store.replica(group);
        if (replica.raw.raft.lead === NONE) unled++;
        committed += replica.raw.raft.log.committed;
        applied += replica.state.applied.index;
        pending += replica.waiters.proposalCount;
      }
      this.set(unled === 0 ? 1 : 0);
      committedGauge.set(committed);
      appliedGauge.set(applied);
      pendingGauge.set(pending);
    },
  });
  const committedGauge = new Gauge({ name: "etcd_server_proposals_committed_total", help: "The Raft commit indexes of this node's shard replicas, summed", registers });
  const appliedGauge = new Gauge({ name: "etcd_server_proposals_applied_total", help: "The applied indexes of this node's shard replicas, summed", registers });
  const pendingGauge = new Gauge({ name: "etcd_server_proposals_pending", help: "Proposals waiting to commit on this node's shard replicas", registers });
  const isLeader = sources.isLeader;
  if (isLeader !== undefined) {
    new Gauge({
      name: "etcd_server_is_leader",
      help: "Whether this node leads the first data shard, which stands for etcd's Raft group (1) or not (0)",
      registers,
      collect(this: Gauge) {
        this.set(isLeader() ? 1 : 0);
      },
    });
  }
  let changesSeen = 0;
  new Counter({
    name: "etcd_server_leader_changes_seen_total",
    help: "Times a shard replica on this node learned of a new leader",
    registers,
    collect(this: Counter) {
      const now = store.counts.leaderChanges;
      if (now > changesSeen) this.inc(now - changesSeen);
      changesSeen = now;
    },
  });
  new Gauge({ name: "etcd_server_version", help: "Which version is running: 1 for the 'server_version' label", labelNames: ["server_version"], registers }).set(
    { server_version: ETCD_COMPATIBLE_VERSION },
    1,
  );
  const dbSizeBytes = sources.dbSizeBytes;
  if (dbSizeBytes !== undefined) {
    new Gauge({
      name: "etcd_mvcc_db_total_size_in_bytes",
      help: "The bytes of the node's database on disk (its LevelDB files)",
      registers,
      async collect(this: Gauge) {
        this.set(await dbSizeBytes());
      },
    });
  }
  return new Histogram({
    name: "etcd_disk_wal_fsync_duration_seconds",
    help: "The latency of the write-ahead log's fdatasync calls, one per group commit",
    buckets: FSYNC_BUCKETS_S,
    registers,
  });
}
