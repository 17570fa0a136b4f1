// Snapshots between nodes, on the store's side. A leader streams its applied state as it is in
// LevelDB; a follower stages the stream under a fresh generation (snapshot_sink.ts) and only then
// hands the MsgSnap to Raft, which asks for the install through a Ready: at that point the staged
// generation becomes current and the replica's state machine is reopened on it. Staging first means
// Raft never learns of a snapshot it cannot install, and a stream cut halfway leaves nothing behind.

import { assert, type SnapshotMeta } from "../../raft/index.js";
import type { LevelDb } from "../keyspace.js";
import { type MvccLimits, ShardState } from "../mvcc/index.js";
import type { Replica } from "../replica.js";
import type { GroupId } from "../wal/record.js";
import { commitStaged, SnapshotSink, type StagedSnapshot } from "./snapshot_sink.js";
import { SnapshotSource } from "./snapshot_source.js";

export class SnapshotStaging {
  /** Streams received in full whose install Raft has not asked for yet, one per group at most. */
  private readonly staged = new Map<GroupId, StagedSnapshot>();

  constructor(
    private readonly db: LevelDb,
    private readonly limits: MvccLimits,
  ) {}

  /** The chunks of `state` as LevelDB holds it, once the applies it reports have landed there. */
  async *chunksOf(state: ShardState, chunkBytesMax: number | undefined): AsyncGenerator<Uint8Array> {
    // The MsgSnap names the applied index, whose batch LevelDB may still be writing.
    await state.flushed();
    yield* SnapshotSource.take(this.db, state.prefix).chunks(chunkBytesMax);
  }

  /** Stages a streamed snapshot of `group`, replacing any staged before; a bad stream leaves nothing. */
  async stage(group: GroupId, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    const sink = await SnapshotSink.begin(this.db, group);
    try {
      for await (const chunk of chunks) await sink.write(chunk);
      this.staged.set(group, sink.finish());
    } catch (error) {
      await sink.abort();
      throw error;
    }
  }

  /** Makes the staged snapshot current and reopens the replica's state machine on it. */
  async install(replica: Replica, meta: SnapshotMeta): Promise<void> {
    const staged = this.staged.get(replica.group);
    assert(staged !== undefined, () => `shard ${replica.group}: Raft installs a snapshot at ${meta.index} that was never staged`);
    this.staged.delete(replica.group);
    await replica.state.close();
    await commitStaged(this.db, staged);
    replica.replaceState(await ShardState.open({ db: this.db, prefix: staged.prefix, limits: this.limits }));
    assert(replica.state.applied.index >= meta.index, "a staged snapshot is older than the index Raft was told");
  }
}
