// Put and delete-range as etcd applies them (server/etcdserver/txn/put.go, delete.go), plus our
// per-key TTL. A key whose TTL has passed is absent for these ops (no prevKv, version starts over),
// but it is still physically there: the first write that touches it deletes it for real, with the
// delete event a watcher would have seen from expireKeys, so the event log stays a full history.

import { ETCD_ERRORS, MvccError, invalidArgument, leaseNotFoundError } from "./errors.js";
import { isSingleKey } from "./keys.js";
import { decodeKeyRecord, type KeyRecord } from "./record_codec.js";
import type { DeleteRangeRequest, DeleteRangeResponse, KeyValue, PutRequest, PutResponse } from "./requests.js";
import type { CommandScope } from "./scope.js";
import { deleteKey, isExpired, readRecord, writeKey } from "./key_store.js";
import { leaseExists } from "./leases.js";

/**
 * Every check comes before the first write, so that a put that fails has written nothing: apply runs
 * puts straight in the entry's batch, with no overlay of their own to roll back (apply.ts).
 */
export function applyPut(scope: CommandScope, req: PutRequest): PutResponse {
  if (req.key.length === 0) throw invalidArgument(ETCD_ERRORS.emptyKey);
  if (req.ignoreValue === true && req.value.length !== 0) throw invalidArgument(ETCD_ERRORS.valueProvided);
  if (req.ignoreLease === true && req.lease !== undefined && req.lease !== 0n) throw invalidArgument(ETCD_ERRORS.leaseProvided);
  let previous = readRecord(scope.overlay, scope.layout, req.key);
  let live = previous === undefined || previous.tombstone ? undefined : previous.kv;
  const expired = live !== undefined && isExpired(live, scope.nowMs) ? live : undefined;
  if (expired !== undefined) live = undefined;
  if ((req.ignoreValue === true || req.ignoreLease === true) && live === undefined) {
    throw invalidArgument(ETCD_ERRORS.keyNotFound);
  }
  const lease = req.ignoreLease === true ? live!.lease : (req.lease ?? 0n);
  if (req.ignoreLease !== true && lease !== 0n && !leaseExists(scope, lease)) throw leaseNotFoundError();
  const value = req.ignoreValue === true ? live!.value : req.value;
  const kv = newKv(scope, req, live, value, lease);
  // Writes from here on: nothing below throws.
  if (expired !== undefined) {
    deleteKey(scope, expired);
    previous = { tombstone: true, deletedRevision: scope.revision };
  }
  writeKey(scope, kv, previous, live);
  return req.prevKv === true && live !== undefined ? { prevKv: live } : {};
}

function newKv(scope: CommandScope, req: PutRequest, live: KeyValue | undefined, value: Uint8Array, lease: bigint): KeyValue {
  const base = {
    key: req.key,
    value,
    createRevision: live === undefined ? scope.revision : live.createRevision,
    modRevision: scope.revision,
    version: live === undefined ? 1 : live.version + 1,
    lease,
  };
  if (req.ttlMs === undefined) return base;
  const expiresAtMs = scope.nowMs + req.ttlMs;
  if (!Number.isSafeInteger(expiresAtMs) || expiresAtMs < 0) {
    throw new MvccError("INVALID_ARGUMENT", `Cannot put with ttlMs ${req.ttlMs}: the expiry time is out of range`);
  }
  return { ...base, expiresAtMs };
}

export async function applyDeleteRange(scope: CommandScope, req: DeleteRangeRequest): Promise<DeleteRangeResponse> {
  if (req.key.length === 0) throw invalidArgument(ETCD_ERRORS.emptyKey);
  const targets: KeyValue[] = [];
  if (isSingleKey(req.rangeEnd)) {
    const record = readRecord(scope.overlay, scope.layout, req.key);
    if (record !== undefined && !record.tombstone) targets.push(record.kv);
  } else {
    // Collected first: the deletes below write into the overlay being scanned.
    for await (const [dbKey, bytes] of scope.overlay.scan(scope.layout.kvRange(req.key, req.rangeEnd))) {
      const record: KeyRecord = decodeKeyRecord(scope.layout.userKeyOfKv(dbKey), bytes);
      if (!record.tombstone) targets.push(record.kv);
    }
  }
  let deleted = 0;
  const prevKvs: KeyValue[] = [];
  for (const kv of targets) {
    const expired = isExpired(kv, scope.nowMs);
    deleteKey(scope, kv);
    if (expired) continue;
    deleted++;
    if (req.prevKv === true) prevKvs.push(kv);
  }
  return { deleted, prevKvs };
}
