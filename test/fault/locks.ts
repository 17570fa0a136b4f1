// Workload (b): locks. Each client grants a lease, keeps it alive, takes etcd's v3lock Lock on one
// name (one shard: the Lock service adds the hash tag), and with the Lock response's revision as its
// fencing token writes "begin" and then "end" to the fenced resource, and unlocks. What each holder
// saw (times, token, until when its lease surely lived) goes to lock_check.ts.

import type * as t from "../../proto/etcd_types.js";
import { bytes, call, type NodeClients, now, sleep } from "./clients.js";
import { ClientLoops } from "./client_loops.js";
import { FencedResource } from "./fenced_resource.js";
import { KeepAlive } from "./keep_alive.js";

export interface Holding {
  readonly holder: number;
  readonly token: number;
  /** When Lock was called and when it returned (performance.now() ms). */
  readonly lockCallMs: number;
  readonly lockReturnMs: number;
  /** When Unlock was called: the holder let go no earlier. Infinity when it never did. */
  releaseCallMs: number;
  /** Until when the holder's lease surely lived (granted or renewed then, not yet past its TTL). */
  aliveUntilMs: number;
}

export interface LockOptions {
  readonly name: string;
  readonly clients: number;
  readonly ttlSeconds: number;
  readonly lockTimeoutMs: number;
  readonly holdMsMax: number;
  readonly random: () => number;
}

export class LockWorkload extends ClientLoops {
  readonly holdings: Holding[] = [];
  readonly resource = new FencedResource();
  counts = { acquired: 0, lockFailed: 0, grantFailed: 0, unlockFailed: 0 };
  private nextHolder = 1;

  constructor(
    nodes: readonly NodeClients[],
    private readonly options: LockOptions,
  ) {
    super(nodes, options.clients);
  }

  protected async round(node: NodeClients, turn: number): Promise<void> {
    const ttlMs = this.options.ttlSeconds * 1000;
    const grantCallMs = now();
    let lease: t.LeaseGrantResponse;
    try {
      lease = await call<t.LeaseGrantResponse>((m, o, cb) => node.lease.LeaseGrant({ TTL: String(this.options.ttlSeconds) }, m, o, cb), 3_000);
    } catch {
      this.counts.grantFailed++;
      await sleep(100);
      return;
    }
    const keepAlive = new KeepAlive(this.nodes, lease.ID, ttlMs, grantCallMs, turn);
    keepAlive.start();
    try {
      const holder = this.nextHolder++;
      const lockCallMs = now();
      let locked: t.LockResponse;
      try {
        locked = await call<t.LockResponse>((m, o, cb) => node.lock.Lock({ name: bytes(this.options.name), lease: lease.ID }, m, o, cb), this.options.lockTimeoutMs);
      } catch {
        this.counts.lockFailed++;
        return;
      }
      const holding: Holding = { holder, token: Number(locked.header?.revision ?? 0), lockCallMs, lockReturnMs: now(), releaseCallMs: Infinity, aliveUntilMs: 0 };
      this.holdings.push(holding);
      this.counts.acquired++;
      this.resource.write({ holder, token: holding.token, phase: "begin", atMs: now() });
      await sleep(this.options.random() * this.options.holdMsMax);
      this.resource.write({ holder, token: holding.token, phase: "end", atMs: now() });
      holding.aliveUntilMs = keepAlive.aliveUntilMs;
      holding.releaseCallMs = now();
      try {
        await call((m, o, cb) => node.lock.Unlock({ key: locked.key }, m, o, cb), 3_000);
      } catch {
        this.counts.unlockFailed++;
      }
    } finally {
      keepAlive.stop();
      // The lease goes either way: revoked now, or expired within its TTL if the revoke fails.
      await call((m, o, cb) => node.lease.LeaseRevoke({ ID: lease.ID }, m, o, cb), 2_000).catch(() => undefined);
    }
  }
}
