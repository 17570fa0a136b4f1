// Applying committed entries: decode, execute in a per-command scope, and gather the effects of
// many entries into few LevelDB batches. Each batch carries the meta (applied index and term, and
// the rest) of the last entry it fully covers, so the database never holds half an entry; the shard
// publishes the new meta and lease table to readers together with the batch's writes.

import type { ConfState, Entry } from "../../raft/index.js";
import type { ApplyResult, Command, CommandResponse } from "./command.js";
import { decodeCommand } from "./command_codec.js";
import { MvccError, compactedError, futureRevisionError } from "./errors.js";
import type { KeyLayout } from "./keys.js";
import type { MvccLimits } from "./limits.js";
import { type ShardMeta, encodeMeta } from "./meta.js";
import { CommandScope, type LeaseChange } from "./scope.js";
import { type KvSource, Overlay } from "./store.js";
import { applyDeleteRange, applyPut } from "./kv_ops.js";
import { applyTxn } from "./txn.js";
import { applyLeaseGrant, applyLeaseRevoke } from "./leases.js";
import { applyExpireKeys } from "./ttl.js";
import { applyPurgeTombstones } from "./tombstones.js";
import { compactEvents, trimEvents } from "./events.js";
import type { EventIndex } from "./event_index.js";

/** A batch is written early, at an entry boundary, once its writes weigh this much. */
export const BATCH_BYTES_MAX = 16 * 1024 * 1024;

export interface ApplyTarget {
  /** What apply reads through: the database and the writes not yet in it. */
  readonly base: KvSource;
  readonly layout: KeyLayout;
  readonly limits: MvccLimits;
  /** A batch is written early, at an entry boundary, once its writes weigh this much (BATCH_BYTES_MAX). */
  readonly batchBytesMax: number;
  /** The meta as of the last batch handed to `write`. */
  readonly meta: ShardMeta;
  /** The retained events by revision, kept in step with the commands that succeed. */
  readonly eventIndex: EventIndex;
  /**
   * Takes every write of `batch` (left empty) for the database, and lets readers see them together
   * with `meta` and the lease changes. Resolves once they are visible, not necessarily written.
   */
  write(batch: Overlay, meta: ShardMeta, leaseChanges: readonly LeaseChange[]): Promise<void>;
}

export async function applyEntries(
  target: ApplyTarget,
  entries: readonly Entry[],
  confStateAt: (index: number) => ConfState,
): Promise<ApplyResult[]> {
  const batch = new Overlay(target.base);
  let meta = target.meta;
  let written = meta;
  let leaseChanges: LeaseChange[] = [];
  const results: ApplyResult[] = [];
  const flush = async (): Promise<void> => {
    if (meta === written) return;
    batch.put(target.layout.meta, encodeMeta(meta));
    const changes = leaseChanges;
    leaseChanges = [];
    written = meta;
    await target.write(batch, meta, changes);
  };
  for (const entry of entries) {
    if (entry.index <= meta.appliedIndex) continue; // replay after a restart: applied already
    if (entry.index !== meta.appliedIndex + 1) {
      throw new Error(`Cannot apply entry ${entry.index}: the shard has applied up to ${meta.appliedIndex}, entries must follow without a gap`);
    }
    const applied = { appliedIndex: entry.index, appliedTerm: entry.term };
    if (entry.type === "confChange") {
      meta = { ...meta, ...applied, confState: confStateAt(entry.index) };
      results.push({ index: entry.index, requestId: 0n, revision: entry.index, ok: true, response: {} });
    } else if (entry.data.length === 0) {
      meta = { ...meta, ...applied }; // a new leader's empty entry
      results.push({ index: entry.index, requestId: 0n, revision: entry.index, ok: true, response: {} });
    } else {
      const outcome = await applyCommandEntry(target, batch, meta, entry);
      meta = outcome.meta;
      if (outcome.leaseChanges.length > 0) leaseChanges.push(...outcome.leaseChanges);
      results.push(outcome.result);
    }
    if (batch.bytes > target.batchBytesMax) await flush();
  }
  await flush();
  return results;
}

interface Outcome {
  readonly meta: ShardMeta;
  readonly leaseChanges: readonly LeaseChange[];
  readonly result: ApplyResult;
}

async function applyCommandEntry(target: ApplyTarget, batch: Overlay, meta: ShardMeta, entry: Entry): Promise<Outcome> {
  const index = entry.index;
  let command: Command;
  try {
    command = decodeCommand(entry.data);
  } catch (error) {
    if (!(error instanceof MvccError)) throw error;
    return failedOutcome(meta, entry, 0n, error);
  }
  const requestId = command.header.requestId;
  const nowMs = Math.max(meta.lastNowMs, command.header.nowMs);
  // A put checks everything before it writes (kv_ops.ts), so it writes in the batch itself; it needs
  // no iteration either, and runs without yielding to the event loop.
  const isPut = command.op === "put";
  const scope = new CommandScope(target.layout, target.limits, batch, index, nowMs, meta, target.eventIndex, isPut);
  try {
    const response = command.op === "put" ? applyPut(scope, command.put) : await execute(scope, command);
    if (scope.eventCount > target.limits.eventsRetainedMax) await trimEvents(scope);
    if (!scope.direct) scope.overlay.commitTo(batch);
    target.eventIndex.committed(index, scope.sub, scope.compactRevision);
    return {
      meta: {
        ...meta,
        appliedIndex: index,
        appliedTerm: entry.term,
        compactRevision: scope.compactRevision,
        eventCount: scope.eventCount,
        lastNowMs: nowMs,
      },
      leaseChanges: scope.leaseChanges,
      result: { index, requestId, revision: index, ok: true, response },
    };
  } catch (error) {
    if (!(error instanceof MvccError)) throw error;
    return failedOutcome(meta, entry, requestId, error);
  }
}

/** A command that failed deterministically: only the applied index moves. Built only on failure. */
function failedOutcome(meta: ShardMeta, entry: Entry, requestId: bigint, error: MvccError): Outcome {
  const index = entry.index;
  return {
    meta: { ...meta, appliedIndex: index, appliedTerm: entry.term },
    leaseChanges: [],
    result: { index, requestId, revision: index, ok: false, error },
  };
}

async function execute(scope: CommandScope, command: Command): Promise<CommandResponse> {
  switch (command.op) {
    case "put":
      return applyPut(scope, command.put);
    case "deleteRange":
      return applyDeleteRange(scope, command.deleteRange);
    case "txn":
      return applyTxn(scope, command.txn);
    case "compact":
      return applyCompact(scope, command.revision);
    case "leaseGrant":
      return applyLeaseGrant(scope, command.id, command.ttlSeconds);
    case "leaseRevoke":
      return applyLeaseRevoke(scope, command.id);
    case "expireKeys":
      return applyExpireKeys(scope, command.keys);
    case "purgeTombstones":
      return applyPurgeTombstones(scope, command.beforeRevision);
  }
}

/** etcd's rules (mvcc/kvstore.go): a future revision or one already compacted is refused. */
async function applyCompact(scope: CommandScope, revision: number): Promise<Record<string, never>> {
  if (revision > scope.revision) throw futureRevisionError();
  if (revision <= scope.compactRevision) throw compactedError();
  await compactEvents(scope, revision);
  return {};
}
