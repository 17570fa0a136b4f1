// What the write-ahead log reports when it cannot go on. Both stop the node: corrupt data must never
// be served or voted on, and a failed fsync leaves the page cache in a state no retry can trust
// (PostgreSQL's "fsyncgate", 2018): the only safe answer is to stop and recover from what is on disk.

/** A record before the tail of the log fails its checksum or cannot be parsed. */
export class WalCorruptionError extends Error {
  override readonly name = "WalCorruptionError";

  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(
      `The write-ahead log is corrupt: ${file} at byte ${offset}: ${reason}. The node stops rather than ` +
        `serve or vote on corrupt data. Keep the file for inspection, move this node's data directory ` +
        `aside and rejoin the node as a new member so that it copies its shards from healthy replicas.`,
    );
  }
}

/** A write or fsync failed; the log accepts nothing more and the process must exit. */
export class WalFatalError extends Error {
  override readonly name = "WalFatalError";

  constructor(
    readonly operation: string,
    readonly file: string,
    override readonly cause: unknown,
  ) {
    super(
      `The write-ahead log cannot ${operation} ${file}: ${cause instanceof Error ? cause.message : String(cause)}. ` +
        `Nothing written since the last successful sync can be trusted, so the node stops; check the disk ` +
        `(space, permissions, kernel log) and restart it: it recovers from what is durable.`,
    );
  }
}
