// etcd's Maintenance service over shards: Status reports the node and its first data shard (etcd's
// one Raft group becomes one of ours), Hash and HashKV fold every shard's state hash into one,
// Defragment compacts the node's LevelDB, and the rest (snapshot, moving the leader, downgrade, alarms
// other than "none") answer UNIMPLEMENTED with the reason, so a tool that tries them learns why
// instead of seeing a fake success.

import { crc32c } from "@node-rs/crc32";
import { AlarmAction, type maintenanceSpec, type ServiceHandlers, type Writable } from "../proto/index.js";
import type * as t from "../proto/index.js";
import { ETCD_ERRORS, MvccError } from "../shard/mvcc/index.js";
import { headerToWire, int64ToNumber } from "./etcd_convert.js";
import { RouterError } from "./errors.js";
import { unary, unimplementedError, unimplementedServerStream, unimplementedUnary } from "./grpc_handlers.js";
import { type MemberInfo, memberIdOf } from "./members.js";
import type { ShardAccess } from "./shard_access.js";
import type { ShardHash } from "./shard_hash.js";

type MaintenanceHandlers = Required<ServiceHandlers<typeof maintenanceSpec.methods>>;

/**
 * The etcd version we answer as. The API is 3.5's; "+shardkv" is semver build metadata, which
 * version comparisons ignore, and clientv3's check reads only the major and minor numbers.
 */
export const ETCD_COMPATIBLE_VERSION = "3.5.0+shardkv";

export class MaintenanceService {
  constructor(
    private readonly access: ShardAccess,
    private readonly members: readonly MemberInfo[],
  ) {}

  /** The grpc-js handlers, for `server.addService(etcd.Maintenance.definition, service.handlers())`. */
  handlers(): MaintenanceHandlers {
    return {
      Status: unary(() => this.status()),
      Hash: unary(() => this.hash()),
      HashKV: unary((req) => this.hashKv(req)),
      Alarm: unary(async (req) => this.alarm(req)),
      // etcdctl defrag (run by operators and their cron jobs) asks each member to reclaim space:
      // LevelDB's equivalent is a full compaction of this node's database.
      Defragment: unary(async () => {
        await this.access.compactDb();
        return { header: this.header(this.access.map().shards[0]!.id) };
      }),
      Snapshot: unimplementedServerStream(
        "shardkv: a snapshot of the whole store is not implemented: every shard is its own Raft group with its own snapshots",
        "back up the data directory of a stopped node instead",
      ),
      MoveLeader: unimplementedUnary(
        "shardkv: moving the leader is not supported: there is no single leader, each shard has its own",
        "the nodes place the shards' leaders themselves (--leader-placement spread or pack) and hand them back to their preferred node after any change; `kvctl shard list` shows where they are",
      ),
      Downgrade: unimplementedUnary("shardkv: downgrade is not supported: shardkv has a single storage version"),
    };
  }

  /**
   * The node as etcd's Status shows it, with the first data shard standing for etcd's Raft group.
   * dbSize is the whole database's (every shard shares one LevelDB), from ShardAccess.dbSizeBytes.
   */
  async status(): Promise<Writable<t.StatusResponse>> {
    const first = this.access.map().shards[0]!.id;
    const raft = this.access.raftStatus(first);
    const dbSize = String(await this.access.dbSizeBytes());
    return {
      header: this.header(first, raft.appliedIndex),
      version: ETCD_COMPATIBLE_VERSION,
      dbSize,
      dbSizeInUse: dbSize,
      leader: String(memberIdOf(this.members, raft.leader)),
      raftIndex: String(raft.committedIndex),
      raftTerm: String(raft.term),
      raftAppliedIndex: String(raft.appliedIndex),
      errors: [],
      isLearner: this.members.find((member) => member.id === this.access.memberId)?.isLearner ?? false,
    };
  }

  /** CRC32C over the shards' hashes (each a 4-byte big-endian word), in the map's order. */
  async hash(): Promise<Writable<t.HashResponse>> {
    const parts = await this.shardHashes();
    const top = latest(parts);
    return { header: this.header(top.shard, top.revision), hash: combine(parts) };
  }

  /**
   * As Hash (a shard's hash covers its keys and everything else it stores). A revision names a point
   * in one shard's history, so it is refused over several shards, as Range refuses it; with one shard,
   * only its current revision can be hashed (the hash reads the current state, not an old one).
   */
  async hashKv(wire: t.HashKVRequest): Promise<Writable<t.HashKVResponse>> {
    const revision = int64ToNumber(wire.revision, "hashkv revision");
    const shards = this.access.map().shards;
    if (revision > 0 && shards.length > 1) {
      throw RouterError.failedPrecondition(
        `Cannot hash at revision ${revision} over ${shards.length} shards: revisions compare only within a shard; leave revision at 0 to hash the current state`,
      );
    }
    const parts = revision > 0 ? [await this.hashAt(shards[0]!.id, revision)] : await this.shardHashes();
    const top = latest(parts);
    const compactRevision = Math.max(...parts.map((part) => part.compactRevision));
    return { header: this.header(top.shard, top.revision), hash: combine(parts), compact_revision: String(compactRevision), hash_revision: String(top.revision) };
  }

  /** No alarms are ever raised (there is no space quota yet), so GET lists none and nothing can be set. */
  alarm(wire: t.AlarmRequest): Writable<t.AlarmResponse> {
    switch (wire.action) {
      case AlarmAction.GET:
        return { header: this.header(this.access.map().shards[0]!.id), alarms: [] };
      case AlarmAction.ACTIVATE:
      case AlarmAction.DEACTIVATE:
        throw unimplementedError("shardkv: alarms cannot be raised or cleared: shardkv keeps no alarms (there is no space quota yet)");
      default:
        throw RouterError.invalidArgument(`Invalid alarm action ${wire.action}: not a value this server knows`);
    }
  }

  private async shardHashes(): Promise<ShardHash[]> {
    const shards = this.access.map().shards;
    return await Promise.all(shards.map((shard) => this.access.shardHash(shard.id)));
  }

  private async hashAt(shard: number, revision: number): Promise<ShardHash> {
    const part = await this.access.shardHash(shard);
    if (revision < part.compactRevision) throw new MvccError("OUT_OF_RANGE", ETCD_ERRORS.compacted);
    if (revision > part.revision) throw new MvccError("OUT_OF_RANGE", ETCD_ERRORS.futureRevision);
    if (part.revision !== revision) {
      throw RouterError.failedPrecondition(
        `Cannot hash at revision ${revision}: shard ${shard} is at revision ${part.revision}, and shardkv hashes only the current state; leave revision at 0`,
      );
    }
    return part;
  }

  private header(shard: number, revision?: number): Writable<t.ResponseHeader> {
    const status = this.access.raftStatus(shard);
    return headerToWire({ clusterId: this.access.clusterId, memberId: this.access.memberId, revision: revision ?? status.appliedIndex, raftTerm: status.term });
  }
}

function combine(parts: readonly ShardHash[]): number {
  const words = Buffer.alloc(4 * parts.length);
  parts.forEach((part, i) => words.writeUInt32BE(part.hash >>> 0, 4 * i));
  return crc32c(words) >>> 0;
}

function latest(parts: readonly ShardHash[]): ShardHash {
  return parts.reduce((best, part) => (part.revision > best.revision ? part : best));
}
