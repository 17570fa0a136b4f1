// Workload (c): leases. Each client grants a short lease, attaches a few keys to it (spread over the
// shards), and then keeps it alive for a while (reading the keys back: none may be missing while the
// lease surely lives), revokes it, or leaves it to expire. Kept leases are then revoked or left to
// expire too, so that at the end of a run every lease is gone: `checkLeasesGone` reads every key
// through every node until none is left, and fails past the grace period.

import type * as t from "../../proto/etcd_types.js";
import { bytes, call, type NodeClients, now, sleep } from "./clients.js";
import { ClientLoops } from "./client_loops.js";
import { KeepAlive } from "./keep_alive.js";

export interface LeaseOptions {
  readonly prefix: string;
  readonly clients: number;
  readonly keysPerLease: number;
  readonly ttlSeconds: number;
  readonly keepMsMax: number;
  readonly random: () => number;
}

type Fate = "keep" | "revoke" | "expire";

export interface LeaseRecord {
  readonly id: string;
  readonly fate: Fate;
  /** Keys whose put was sent with the lease (acknowledged or not): all must be gone at the end. */
  readonly keys: string[];
  /** The keep-alives and the reads of a kept lease, one line each. */
  journal?: string[];
}

export class LeaseWorkload extends ClientLoops {
  readonly leases: LeaseRecord[] = [];
  readonly violations: string[] = [];
  counts = { granted: 0, putsOk: 0, putsUnknown: 0, revoked: 0, revokeFailed: 0, keptReads: 0 };
  private seq = 0;

  constructor(
    nodes: readonly NodeClients[],
    private readonly options: LeaseOptions,
  ) {
    super(nodes, options.clients);
  }

  protected async round(node: NodeClients, turn: number): Promise<void> {
    const { ttlSeconds, keysPerLease, random } = this.options;
    const grantCallMs = now();
    let lease: t.LeaseGrantResponse;
    try {
      lease = await call<t.LeaseGrantResponse>((m, o, cb) => node.lease.LeaseGrant({ TTL: String(ttlSeconds) }, m, o, cb), 3_000);
    } catch {
      await sleep(100);
      return; // a grant that may have happened leaves a lease with no keys: it expires unseen
    }
    this.counts.granted++;
    const dice = random();
    const fate: Fate = dice < 0.4 ? "keep" : dice < 0.7 ? "revoke" : "expire";
    const record: LeaseRecord = { id: lease.ID, fate, keys: [] };
    this.leases.push(record);
    const keepAlive = fate === "keep" ? new KeepAlive(this.nodes, lease.ID, ttlSeconds * 1000, grantCallMs, turn) : undefined;
    keepAlive?.start();
    const acked: string[] = [];
    for (let k = 0; k < keysPerLease; k++) {
      const key = `${this.options.prefix}/l${++this.seq}`;
      record.keys.push(key);
      try {
        await call((m, o, cb) => node.kv.Put({ key: bytes(key), value: bytes(lease.ID), lease: lease.ID }, m, o, cb), 3_000);
        acked.push(key);
        this.counts.putsOk++;
      } catch {
        this.counts.putsUnknown++;
      }
    }
    if (keepAlive !== undefined) {
      await this.watchKept(keepAlive, acked, turn, grantCallMs + random() * this.options.keepMsMax);
      keepAlive.stop();
      record.journal = keepAlive.journal;
    }
    if (fate === "revoke" || (fate === "keep" && random() < 0.5)) {
      try {
        await call((m, o, cb) => node.lease.LeaseRevoke({ ID: lease.ID }, m, o, cb), 3_000);
        this.counts.revoked++;
      } catch {
        this.counts.revokeFailed++; // it expires instead
      }
    }
  }

  /** Reads the kept lease's acknowledged keys until `untilMs`: each must be there while the lease surely lives. */
  private async watchKept(keepAlive: KeepAlive, acked: readonly string[], turn: number, untilMs: number): Promise<void> {
    for (let i = 0; now() < untilMs && this.running; i++) {
      await sleep(200);
      const node = this.liveNode(turn + i)?.node;
      if (node === undefined) continue;
      for (const key of acked) {
        const callMs = now();
        try {
          const response = await call<t.RangeResponse>((m, o, cb) => node.kv.Range({ key: bytes(key) }, m, o, cb), 3_000);
          const returnMs = now();
          this.counts.keptReads++;
          keepAlive.journal.push(`${(returnMs / 1000).toFixed(3)} s read ${key} through ${node.node.name}: ${response.kvs.length === 0 ? "absent" : "present"} (called at ${(callMs / 1000).toFixed(3)} s)`);
          // Read after the renewal proven by aliveUntilMs was sent? It may only have been renewed
          // later; either way the lease lived through the whole read when it returned before aliveUntilMs.
          if (response.kvs.length === 0 && returnMs < keepAlive.aliveUntilMs - 100) {
            this.violations.push(`key ${key} of lease ${BigInt(keepAlive.leaseId).toString(16)} was gone at ${(returnMs / 1000).toFixed(3)} s while the lease lived until at least ${(keepAlive.aliveUntilMs / 1000).toFixed(3)} s`);
          }
        } catch {
          // a read that failed says nothing
        }
      }
    }
  }
}

/**
 * Every key of every lease is gone, read linearizably through every node; polls until `deadlineMs`
 * (after the grace period: TTL, plus elections and the leaders' housekeeping). Returns the keys left.
 */
export async function checkLeasesGone(nodes: readonly NodeClients[], leases: readonly LeaseRecord[], deadlineMs: number): Promise<string[]> {
  let left = leases.flatMap((lease) => lease.keys.map((key) => ({ key, lease })));
  for (;;) {
    const still: typeof left = [];
    for (const entry of left) {
      for (const node of nodes) {
        try {
          const response = await call<t.RangeResponse>((m, o, cb) => node.kv.Range({ key: bytes(entry.key) }, m, o, cb), 3_000);
          if (response.kvs.length > 0) {
            still.push(entry);
            break;
          }
        } catch {
          still.push(entry); // not proven gone
          break;
        }
      }
    }
    left = still;
    if (left.length === 0 || now() > deadlineMs) break;
    await sleep(500);
  }
  return left.map(({ key, lease }) => `key ${key} of lease ${BigInt(lease.id).toString(16)} (${lease.fate}) is still there after the grace period`);
}
