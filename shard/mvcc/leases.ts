// Leases as stored state (P 'l' id -> granted TTL) and their attachment index (P 'a' id key).
// Deadlines are not here: they are leader-side memory (LeaseClock), and expiry reaches the state
// machine only as a leaseRevoke entry, so replicas never decide on their own clocks.

import { ETCD_ERRORS, MvccError, invalidArgument, leaseNotFoundError } from "./errors.js";
import type { KeyLayout } from "./keys.js";
import type { LeaseGrantResponse, LeaseRevokeResponse } from "./requests.js";
import type { CommandScope } from "./scope.js";
import type { KvSource } from "./store.js";
import { ByteReader, ByteWriter } from "./wire.js";
import { deleteKey, readRecord } from "./key_store.js";

export function leaseExists(scope: CommandScope, id: bigint): boolean {
  return scope.overlay.get(scope.layout.lease(id)) !== undefined;
}

export function applyLeaseGrant(scope: CommandScope, id: bigint, ttlSeconds: number): LeaseGrantResponse {
  if (id === 0n) throw invalidArgument("Cannot grant lease 0: the proposer must choose a non-zero id");
  if (leaseExists(scope, id)) throw new MvccError("FAILED_PRECONDITION", ETCD_ERRORS.leaseExists);
  const granted = Math.max(ttlSeconds, scope.limits.leaseTtlMinSeconds);
  scope.overlay.put(scope.layout.lease(id), encodeLease(granted));
  scope.leaseChanges.push({ id, ttlSeconds: granted });
  return { id, ttlSeconds: granted };
}

/** Deletes the lease and every key of this shard attached to it, each with its delete event. */
export async function applyLeaseRevoke(scope: CommandScope, id: bigint): Promise<LeaseRevokeResponse> {
  if (!leaseExists(scope, id)) throw leaseNotFoundError();
  const attached = await attachedKeys(scope.overlay, scope.layout, id);
  let deleted = 0;
  for (const key of attached) {
    const record = readRecord(scope.overlay, scope.layout, key);
    if (record !== undefined && !record.tombstone && record.kv.lease === id) {
      deleteKey(scope, record.kv);
      deleted++;
    } else {
      // The index and the record always change together; this only cleans up after a bug.
      scope.overlay.del(scope.layout.attachment(id, key));
    }
  }
  scope.overlay.del(scope.layout.lease(id));
  scope.leaseChanges.push({ id, ttlSeconds: undefined });
  return { deleted };
}

export async function attachedKeys(source: KvSource, layout: KeyLayout, id: bigint): Promise<Uint8Array[]> {
  const keys: Uint8Array[] = [];
  for await (const [dbKey] of source.scan(layout.attachmentRange(id), true)) keys.push(layout.userKeyOfIndexEntry(dbKey));
  return keys;
}

/** The whole lease table: leases are few (one per client session), unlike keys. */
export async function readLeases(source: KvSource, layout: KeyLayout): Promise<Map<bigint, number>> {
  const leases = new Map<bigint, number>();
  for await (const [dbKey, bytes] of source.scan(layout.leaseRange())) leases.set(layout.leaseIdOf(dbKey), decodeLease(bytes));
  return leases;
}

export function readLease(source: KvSource, layout: KeyLayout, id: bigint): number | undefined {
  const bytes = source.get(layout.lease(id));
  return bytes === undefined ? undefined : decodeLease(bytes);
}

function encodeLease(ttlSeconds: number): Uint8Array {
  const writer = new ByteWriter(10);
  writer.uvarint(ttlSeconds);
  return writer.finish();
}

function decodeLease(bytes: Uint8Array): number {
  const reader = new ByteReader(bytes, "lease record");
  const ttlSeconds = reader.uvarint();
  reader.end();
  return ttlSeconds;
}
