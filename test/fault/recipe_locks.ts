// Workload (b'): locks taken with the etcd3 npm client's own recipe (node_modules/etcd3/lib/lock.js),
// unchanged, beside the v3lock Lock service clients of locks.ts. On the wire the recipe grants a lease
// (kept alive by etcd3's Lease every TTL/3), then sends one Txn: if the key's create revision is 0, put
// the key ("" on the lease); a failed compare revokes the lease and rejects (EtcdLockFailedError):
// it is a try-lock that never waits. Release revokes the lease. Its one key is the lock name, so any
// name is one shard; the name carries a hash tag all the same, as test/node/etcd3_client.test.ts does.
// The recipe returns no fencing token: the holder reads its key back (a linearizable Range) and takes
// the key's create revision as its token if the key is still on its lease; if not, it lost the lock
// before it could fence anything and writes nothing (a violation if its lease surely lived: nothing
// but the lease's end deletes the key). The holders go to the same checker as locks.ts's.

import { Etcd3, EtcdLockFailedError, type Lease, type Lock } from "etcd3";
import { type NodeClients, now, sleep } from "./clients.js";
import { ClientLoops } from "./client_loops.js";
import { FencedResource } from "./fenced_resource.js";
import { provenLifeMs } from "./keep_alive.js";
import { LEASE_MARGIN_MS } from "./lock_check.js";
import type { Holding } from "./locks.js";

export interface RecipeLockOptions {
  /** The lock's key, with a hash tag: `{...}`. */
  readonly name: string;
  readonly clients: number;
  readonly ttlSeconds: number;
  /** The deadline of each unary call the recipe makes (grant, txn, range, revoke). */
  readonly callTimeoutMs: number;
  readonly holdMsMax: number;
  readonly random: () => number;
}

export class RecipeLockWorkload extends ClientLoops {
  readonly holdings: Holding[] = [];
  readonly resource = new FencedResource();
  /** Keys found gone, or on another lease, while their holder's lease surely lived. */
  readonly violations: string[] = [];
  counts = { acquired: 0, busy: 0, acquireFailed: 0, lostBeforeReadBack: 0, readBackFailed: 0, releaseFailed: 0 };
  private nextHolder = 1;
  /** One etcd3 client per node, so that a holder stays on its node as the other workloads' clients do. */
  private readonly clients: Etcd3[];

  constructor(
    nodes: readonly NodeClients[],
    private readonly options: RecipeLockOptions,
  ) {
    super(nodes, options.clients);
    this.clients = nodes.map(
      (n) =>
        new Etcd3({
          hosts: n.node.clientAddress,
          grpcOptions: { "grpc.initial_reconnect_backoff_ms": 100, "grpc.max_reconnect_backoff_ms": 500 },
          defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + options.callTimeoutMs }),
        }),
    );
  }

  override async stop(): Promise<void> {
    await super.stop();
    for (const client of this.clients) client.close();
  }

  protected round(_node: NodeClients, _turn: number, nodeIndex: number): Promise<void> {
    return this.once(this.clients[nodeIndex]!);
  }

  private async once(client: Etcd3): Promise<void> {
    const { name, ttlSeconds, random } = this.options;
    const lock = client.lock(name).ttl(ttlSeconds);
    const lockCallMs = now();
    const acquiring = lock.acquire();
    // acquire() made the recipe's lease (a private field) before its first await: watch its keep-alives.
    const watch = new RecipeLease((lock as unknown as { lease: Lease }).lease, ttlSeconds * 1000, lockCallMs);
    try {
      await acquiring;
    } catch (error) {
      if (error instanceof EtcdLockFailedError) {
        this.counts.busy++; // held by another: the recipe revoked its lease already
        await sleep(20 + random() * 80);
        return;
      }
      // The recipe leaves its lease alive (kept alive forever) when the txn fails: if the txn applied
      // all the same, the lock is held by nobody until the lease goes. A careful caller revokes it.
      this.counts.acquireFailed++;
      await lock.release().catch(() => undefined);
      await sleep(100);
      return;
    }
    const lockReturnMs = now();
    const token = await this.readBack(client, lock, watch);
    if (token === undefined) {
      await this.release(lock);
      return;
    }
    const holder = this.nextHolder++;
    const holding: Holding = { holder, token, lockCallMs, lockReturnMs, releaseCallMs: Infinity, aliveUntilMs: 0 };
    this.holdings.push(holding);
    this.counts.acquired++;
    this.resource.write({ holder, token, phase: "begin", atMs: now() });
    await sleep(random() * this.options.holdMsMax);
    this.resource.write({ holder, token, phase: "end", atMs: now() });
    holding.aliveUntilMs = watch.aliveUntilMs;
    holding.releaseCallMs = now();
    await this.release(lock);
  }

  /** The key's create revision, if the key is still on this holder's lease; undefined if it is not or the read failed. */
  private async readBack(client: Etcd3, lock: Lock, watch: RecipeLease): Promise<number | undefined> {
    try {
      const [leaseId, range] = await Promise.all([lock.leaseId(), client.get(this.options.name).exec()]);
      const returnMs = now();
      const kv = range.kvs[0];
      if (kv === undefined || leaseId === null || kv.lease !== leaseId) {
        this.counts.lostBeforeReadBack++;
        if (returnMs < watch.aliveUntilMs - LEASE_MARGIN_MS) {
          const found = kv === undefined ? "absent" : `on lease ${kv.lease} (create revision ${kv.create_revision})`;
          this.violations.push(`the recipe's key ${this.options.name} of lease ${leaseId} was ${found} at ${(returnMs / 1000).toFixed(3)} s, while that lease lived until at least ${(watch.aliveUntilMs / 1000).toFixed(3)} s`);
        }
        return undefined;
      }
      return Number(kv.create_revision);
    } catch {
      this.counts.readBackFailed++;
      return undefined;
    }
  }

  private async release(lock: Lock): Promise<void> {
    try {
      await lock.release();
    } catch {
      this.counts.releaseFailed++; // the lease expires within its TTL instead
    }
  }
}

/**
 * Until when the recipe's lease surely lives, from etcd3's Lease events: every keep-alive answered with
 * TTL > 0 proves the lease lived a TTL past the moment it was fired (requests and answers pair in
 * order on one stream; a broken stream drops the requests in flight).
 */
class RecipeLease {
  aliveUntilMs: number;
  private readonly fired: number[] = [];

  constructor(lease: Lease, ttlMs: number, grantCallMs: number) {
    this.aliveUntilMs = grantCallMs + provenLifeMs(ttlMs);
    lease.on("keepaliveEstablished", () => (this.fired.length = 0));
    lease.on("keepaliveFailed", () => (this.fired.length = 0));
    lease.on("keepaliveFired", () => this.fired.push(now()));
    lease.on("keepaliveSucceeded", (response) => {
      const fired = this.fired.shift();
      if (fired !== undefined && Number(response.TTL) > 0) this.aliveUntilMs = Math.max(this.aliveUntilMs, fired + provenLifeMs(ttlMs));
    });
  }
}
