// Tombstones: a deleted key keeps a record with its deletion revision (P 'k' key) and an entry in
// deletion order (P 'd' rev key), so that a delete is itself state that snapshots and restarts carry.
// Purging removes both once the retention window passed; reads never see either.

import type { KeyLayout } from "./keys.js";
import type { PurgeTombstonesResponse } from "./requests.js";
import type { CommandScope } from "./scope.js";
import type { KvSource } from "./store.js";
import { readRecord } from "./key_store.js";

export async function applyPurgeTombstones(scope: CommandScope, beforeRevision: number): Promise<PurgeTombstonesResponse> {
  const { layout, overlay } = scope;
  const entries: Uint8Array[] = [];
  for await (const [dbKey] of overlay.scan(layout.tombstoneRangeBefore(beforeRevision), true)) entries.push(dbKey);
  let purged = 0;
  for (const entry of entries) {
    const key = layout.userKeyOfIndexEntry(entry);
    const record = readRecord(overlay, layout, key);
    // A key put again since keeps its record; its tombstone entry went with the put.
    if (record !== undefined && record.tombstone && record.deletedRevision === layout.numberOfIndexEntry(entry)) {
      overlay.del(layout.kv(key));
      purged++;
    }
    overlay.del(entry);
  }
  return { purged };
}

/** How many tombstones have a deletion revision < revision, counting up to `limit`. */
export async function countTombstonesBefore(source: KvSource, layout: KeyLayout, revision: number, limit: number): Promise<number> {
  let count = 0;
  if (limit <= 0) return count;
  for await (const _ of source.scan(layout.tombstoneRangeBefore(revision), true)) {
    if (++count >= limit) break;
  }
  return count;
}
