// The stubs of leases in shards other than their home (lease_home.ts): revoked, with their keys, when
// the home lets the lease go. A revoke through the Lease service revokes the stubs at once
// (`revokeStubs`); an expiry is the home leader's own decision, made with no router in the loop, and
// a node can die between the home's revoke and the stubs', so every node also sweeps the shards it
// leads (`StubSweeper`): a stub whose lease its home no longer has is revoked. A key attached to an
// expired lease in another shard than its home may thus outlive the lease by up to one sweep.
//
// The sweep costs nothing while there are no stubs: it reads the lease tables of the shards this node
// leads from memory, and asks a home (a linearizable read) only about stubs that a serializable look
// at the home found missing, so a lease granted a moment ago is never taken for a revoked one.

import { ETCD_ERRORS } from "../shard/mvcc/index.js";
import type { Store } from "../shard/store.js";
import { leaseHome } from "./lease_home.js";
import type { ShardAccess } from "./shard_access.js";

/** Revokes lease `id` in every shard but its home that holds a stub of it; resolves once all did. */
export async function revokeStubs(access: ShardAccess, id: bigint): Promise<void> {
  const map = access.map();
  const home = leaseHome(map, id).id;
  await Promise.all(
    map.shards
      .filter((shard) => shard.id !== home)
      .map(async (shard) => {
        if (!(await access.leases(shard.id, "serializable")).some((lease) => lease.id === id)) return;
        const result = await access.propose(shard.id, { op: "leaseRevoke", id });
        // Gone already (a sweep, or another revoke, was first): what was wanted.
        if (!result.ok && result.error.message !== ETCD_ERRORS.leaseNotFound) throw result.error;
      }),
  );
}

export interface StubSweepSettings {
  readonly intervalMs: number;
}

export const STUB_SWEEP_DEFAULTS: StubSweepSettings = { intervalMs: 1_000 };

export class StubSweeper {
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;
  private readonly settings: StubSweepSettings;

  constructor(
    private readonly access: ShardAccess,
    private readonly store: Store,
    private readonly log: (line: string) => void,
    settings: Partial<StubSweepSettings> = {},
  ) {
    this.settings = { ...STUB_SWEEP_DEFAULTS, ...settings };
  }

  start(): void {
    this.timer = setInterval(() => {
      if (this.sweeping) return;
      this.sweeping = true;
      this.sweep()
        .catch((error: unknown) => this.log(`lease stubs: a sweep failed (${(error as Error).message}); the next one tries again`))
        .finally(() => (this.sweeping = false));
    }, this.settings.intervalMs);
    this.timer.unref();
  }

  /** One pass over the shards this node leads; resolves with how many stubs it revoked. */
  async sweep(): Promise<number> {
    const map = this.access.map();
    let revoked = 0;
    for (const shard of map.shards) {
      if (!this.store.hasReplica(shard.id) || !this.store.replica(shard.id).isLeader) continue;
      const stubs = this.store
        .replica(shard.id)
        .state.leases()
        .filter((lease) => leaseHome(map, lease.id).id !== shard.id);
      for (const stub of stubs) {
        const home = leaseHome(map, stub.id).id;
        const present = (ids: readonly { id: bigint }[]) => ids.some((lease) => lease.id === stub.id);
        if (present(await this.access.leases(home, "serializable"))) continue;
        if (present(await this.access.leases(home, "linearizable"))) continue;
        const result = await this.access.propose(shard.id, { op: "leaseRevoke", id: stub.id });
        if (result.ok) revoked++;
      }
    }
    return revoked;
  }

  /** For the node's stop(). */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }
}
