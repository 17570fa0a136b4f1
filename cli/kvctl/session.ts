// A session, as etcd's client/v3/concurrency has one: a lease granted for a command that holds
// something in the cluster (a lock, a leadership) and kept alive while it does. Closing it revokes
// the lease, which deletes whatever hung on it, so a holder that exits, cleanly or not, never blocks
// the others for longer than the TTL.

import type { ClusterClient } from "./client.js";
import { leaseHex } from "./flag_values.js";
import { LeaseKeeper } from "./keep_alive.js";
import { grantLease, revokeLease } from "./lease.js";

export class Session {
  private constructor(
    private readonly client: ClusterClient,
    /** Decimal, as on the wire. */
    readonly lease: string,
    private readonly keeper: LeaseKeeper,
  ) {}

  static async open(client: ClusterClient, ttlMs: number): Promise<Session> {
    const { id, ttlSeconds } = await grantLease(client, ttlMs);
    return new Session(client, id, new LeaseKeeper(client, id, ttlSeconds));
  }

  /** Settles with the reason once the lease is gone: what was held on it is gone too. */
  get lost(): Promise<string> {
    return this.keeper.lost;
  }

  get leaseHex(): string {
    return leaseHex(this.lease);
  }

  /** Stops the renewals and revokes the lease; a failure is reported, not thrown (the TTL ends it anyway). */
  async close(): Promise<void> {
    this.keeper.stop();
    try {
      await revokeLease(this.client, this.lease);
    } catch (error) {
      process.stderr.write(`kvctl: could not revoke lease ${this.leaseHex} (${(error as Error).message}); it expires on its own\n`);
    }
  }
}
