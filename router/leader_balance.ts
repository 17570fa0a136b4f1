// Leaders spread over the nodes: each shard has a preferred leader, the first of its replicas in the
// map (the bootstrap split rotates the replica lists, so the first replicas are spread evenly), and
// a node that leads a shard whose preferred leader is alive hands leadership to it (Raft's leader
// transfer). Elections alone pick leaders at random, and after a node failed and came back it would
// lead nothing; CockroachDB and TiKV rebalance leases and leaders for the same reason.
//
// Only to a node the transport heard from recently, and once per shard per term, tried again only
// after retryAfterMs: a preferred node that cannot take over (too far behind, say) does not make its
// shard flap, and is given another chance later.

import type { NodeId } from "../raft/index.js";
import type { Store } from "../shard/store.js";

export interface LeaderBalanceSettings {
  /** How often the node looks at the shards it leads. */
  readonly intervalMs: number;
  /** A preferred leader whose node was silent longer than this is left alone. */
  readonly aliveWithinMs: number;
  /** After a transfer that did not happen (the same leader, the same term), the wait before the next try. */
  readonly retryAfterMs: number;
}

export const LEADER_BALANCE_DEFAULTS: LeaderBalanceSettings = { intervalMs: 2_000, aliveWithinMs: 1_000, retryAfterMs: 30_000 };

export class LeaderBalancer {
  /** The last transfer asked for each shard: its term and when. */
  private readonly tried = new Map<number, { readonly term: number; readonly atMs: number }>();
  private timer: NodeJS.Timeout | undefined;
  private readonly settings: LeaderBalanceSettings;

  constructor(
    private readonly store: Store,
    private readonly self: NodeId,
    /** Each shard this node may lead, with its replicas in preference order (the map's, and the meta group's). */
    private readonly preferences: () => Iterable<{ readonly id: number; readonly replicas: readonly NodeId[] }>,
    /** How long ago the transport last heard from a node (Infinity: never). */
    private readonly silentMs: (node: NodeId) => number,
    settings: Partial<LeaderBalanceSettings> = {},
  ) {
    this.settings = { ...LEADER_BALANCE_DEFAULTS, ...settings };
  }

  start(): void {
    this.timer = setInterval(() => this.balance(), this.settings.intervalMs);
    this.timer.unref();
  }

  /** One look: asks for the transfers due now; returns how many it asked for. */
  balance(nowMs = Date.now()): number {
    let asked = 0;
    for (const shard of this.preferences()) {
      const preferred = shard.replicas[0];
      if (preferred === undefined || preferred === this.self || !this.store.hasReplica(shard.id)) continue;
      const replica = this.store.replica(shard.id);
      if (!replica.isLeader) continue;
      const term = replica.raw.raft.term;
      const last = this.tried.get(shard.id);
      if (last !== undefined && last.term === term && nowMs - last.atMs < this.settings.retryAfterMs) continue;
      if (!(this.silentMs(preferred) <= this.settings.aliveWithinMs)) continue;
      this.tried.set(shard.id, { term, atMs: nowMs });
      this.store.transferLeader(shard.id, preferred);
      asked++;
    }
    return asked;
  }

  /** For the node's stop(). */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }
}
