// Leaders where the placement wants them: each shard has a preferred leader, and a node that leads a
// shard whose preferred leader is alive hands leadership to it (Raft's leader transfer). Elections
// alone pick leaders at random, and after a node failed and came back it would lead nothing;
// CockroachDB and TiKV rebalance leases and leaders for the same reason.
// - spread (the default): the first of the shard's replicas in the map; the bootstrap split rotates
//   the replica lists, so each node leads as many shards, and leaders' work runs on every machine.
// - pack: the replica with the lowest member id, so one node leads every shard it holds. For members
//   that share one machine's cores (the Procfile's local cluster): spread leaders gain no cores there,
//   and every node then both leads and follows, which takes more, smaller batches (fsyncs, turns,
//   messages) per write. On 2 cores, 3 nodes and 8 shards, put x64 went from 2,873 / 3,119 ops/s
//   (0.45 CPU ms a put) spread to 3,792 / 3,705 (0.34) packed, near one shard's 4,178-4,275.
//
// Only to a node the transport heard from recently, and once per shard per term, tried again only
// after retryAfterMs: a preferred node that cannot take over (too far behind, say) does not make its
// shard flap, and is given another chance later.

import type { NodeId } from "../raft/index.js";
import type { Store } from "../shard/store.js";

export type LeaderPlacement = "spread" | "pack";

export interface LeaderBalanceSettings {
  /** Which replica each shard prefers as its leader (the header says when to pick which). */
  readonly placement: LeaderPlacement;
  /** How often the node looks at the shards it leads. */
  readonly intervalMs: number;
  /** A preferred leader whose node was silent longer than this is left alone. */
  readonly aliveWithinMs: number;
  /** After a transfer that did not happen (the same leader, the same term), the wait before the next try. */
  readonly retryAfterMs: number;
}

export const LEADER_BALANCE_DEFAULTS: LeaderBalanceSettings = { placement: "spread", intervalMs: 2_000, aliveWithinMs: 1_000, retryAfterMs: 30_000 };

/** The replica `placement` wants to lead a shard with these replicas (in the map's order). */
export function preferredLeader(placement: LeaderPlacement, replicas: readonly NodeId[]): NodeId | undefined {
  if (replicas.length === 0) return undefined;
  return placement === "pack" ? Math.min(...replicas) : replicas[0];
}

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
      const preferred = preferredLeader(this.settings.placement, shard.replicas);
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
