// A node's link to the meta group (shard 0): it publishes the node's own member record (with the
// client address it bound) and, on a new cluster, the bootstrap shard map; then it keeps the node's
// cached copies of the map and the member list current. A node with a meta replica re-reads on each
// apply of shard 0; a node without one asks a meta replica (through forwarding) every pollMs.
//
// The map only ever moves forward: a copy with an epoch at or below the cached one is ignored, and
// a new map is written with a compare on the stored map's mod revision, so two writers cannot both
// move it from the same epoch.

import type { ShardAccess } from "./shard_access.js";
import type { ShardMap } from "./shard_map.js";
import {
  decodeMember,
  decodeShardMap,
  encodeMember,
  encodeShardMap,
  isMemberKey,
  type MemberRecord,
  META_PREFIX,
  META_PREFIX_END,
  META_SHARD,
  memberKey,
  SHARD_MAP_KEY,
} from "./meta_records.js";
import { RouterError } from "./errors.js";

export interface MetaSyncOptions {
  /** The node's routed access: shard 0 is served here or forwarded to a meta replica. */
  readonly access: ShardAccess;
  /** Whether this node holds a replica of the meta group (then apply notices drive the refresh). */
  readonly holdsMeta: boolean;
  readonly self: MemberRecord;
  /** The map this node bootstrapped with (or last saved): published if the meta group has none. */
  readonly initialMap: ShardMap;
  /** A newer map than any before it. */
  readonly onMap: (map: ShardMap) => void;
  /** The member list, each time it is read. */
  readonly onMembers: (members: readonly MemberRecord[]) => void;
  readonly log: (line: string) => void;
  /** How often a node without a meta replica reads the meta group. */
  readonly pollMs?: number;
  /** The pause before publishing again after a failure (no meta leader yet, say). */
  readonly retryMs?: number;
}

export const META_SYNC_DEFAULTS = { pollMs: 1_000, retryMs: 200 } as const;

export class MetaSync {
  private epoch: number;
  private stopped = false;
  private refreshing: Promise<void> | undefined;
  private again = false;
  private stopFollowing: (() => void) | undefined;
  private published = false;

  constructor(private readonly options: MetaSyncOptions) {
    this.epoch = options.initialMap.epoch;
  }

  /** Publishes in the background until the meta group took it, then follows the meta group. */
  start(): void {
    void this.publishLoop();
  }

  /** Whether this node's record and the bootstrap map are in the meta group. */
  get isPublished(): boolean {
    return this.published;
  }

  /** Reads the meta group now (coalesced: one read in flight, and one more if asked meanwhile). */
  refresh(): Promise<void> {
    if (this.refreshing !== undefined) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      try {
        do {
          this.again = false;
          await this.readOnce();
        } while (this.again && !this.stopped);
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /**
   * Writes `next` as the cluster's map if the stored one is still `expected` (its epoch); the
   * splitting and moving of shards will call this. Throws FAILED_PRECONDITION when another map got
   * there first.
   */
  async publishMap(next: ShardMap, expectedEpoch: number): Promise<void> {
    if (next.epoch <= expectedEpoch) throw RouterError.invalidArgument(`a new shard map needs an epoch above ${expectedEpoch}, got ${next.epoch}`);
    const stored = await this.options.access.range(META_SHARD, { key: SHARD_MAP_KEY }, "linearizable");
    const current = stored.kvs[0];
    if (current === undefined || decodeShardMap(current.value).epoch !== expectedEpoch) {
      throw RouterError.failedPrecondition(`the meta group's shard map is not at epoch ${expectedEpoch} any more; read it again and retry`);
    }
    const result = await this.options.access.propose(META_SHARD, {
      op: "txn",
      txn: {
        compare: [{ key: SHARD_MAP_KEY, target: "mod", result: "equal", value: current.modRevision }],
        success: [{ put: { key: SHARD_MAP_KEY, value: encodeShardMap(next) } }],
        failure: [],
      },
    });
    if (!result.ok) throw result.error;
    if (!("succeeded" in result.response) || !result.response.succeeded) {
      throw RouterError.failedPrecondition(`the meta group's shard map changed while epoch ${next.epoch} was written; read it again and retry`);
    }
    await this.refresh();
  }

  stop(): void {
    this.stopped = true;
    this.stopFollowing?.();
  }

  /** For the node's stop(), with its other long-running parts. */
  close(): void {
    this.stop();
  }

  private async publishLoop(): Promise<void> {
    const { access, self, initialMap, log } = this.options;
    while (!this.stopped) {
      try {
        await access.propose(META_SHARD, { op: "put", put: { key: memberKey(self.id), value: encodeMember(self) } });
        // The first member to get here stores the bootstrap map; every other finds it there already.
        const created = await access.propose(META_SHARD, {
          op: "txn",
          txn: {
            compare: [{ key: SHARD_MAP_KEY, target: "create", result: "equal", value: 0 }],
            success: [{ put: { key: SHARD_MAP_KEY, value: encodeShardMap(initialMap) } }],
            failure: [],
          },
        });
        if (!created.ok) throw created.error;
        this.published = true;
        break;
      } catch (error) {
        log(`meta group: publishing member ${self.name} failed (${(error as Error).message}); retrying`);
        await new Promise((resolve) => setTimeout(resolve, this.options.retryMs ?? META_SYNC_DEFAULTS.retryMs));
      }
    }
    if (this.stopped) return;
    this.follow();
    await this.refresh().catch((error: unknown) => log(`meta group: reading it failed (${(error as Error).message})`));
  }

  private follow(): void {
    const refreshSoon = (): void => {
      if (this.stopped) return;
      this.refresh().catch((error: unknown) => this.options.log(`meta group: reading it failed (${(error as Error).message})`));
    };
    if (this.options.holdsMeta) {
      this.stopFollowing = this.options.access.onApplied(META_SHARD, refreshSoon);
      return;
    }
    const timer = setInterval(refreshSoon, this.options.pollMs ?? META_SYNC_DEFAULTS.pollMs);
    timer.unref();
    this.stopFollowing = () => clearInterval(timer);
  }

  private async readOnce(): Promise<void> {
    const answer = await this.options.access.range(META_SHARD, { key: META_PREFIX, rangeEnd: META_PREFIX_END }, "serializable");
    const members: MemberRecord[] = [];
    for (const kv of answer.kvs) {
      if (Buffer.from(kv.key).equals(SHARD_MAP_KEY)) {
        const map = decodeShardMap(kv.value);
        if (map.epoch > this.epoch) {
          this.epoch = map.epoch;
          this.options.onMap(map);
        }
      } else if (isMemberKey(kv.key)) {
        members.push(decodeMember(kv.value));
      }
    }
    this.options.onMembers(members);
  }
}
