// Every bound of the peer transport in one place, with units in the names, and the relations between
// them checked once at construction (TigerBeetle's rule: a queue without a named limit is a slow death).

export interface TransportLimits {
  /** Messages waiting for one peer's stream; newer ones are dropped beyond it (Raft resends). */
  readonly queueMessagesMax: number;
  /** Estimated wire bytes waiting for one peer's stream; newer messages are dropped beyond it. */
  readonly queueBytesMax: number;
  /** Estimated bytes of one RaftBatch; a flush with more queued writes several batches. */
  readonly batchBytesMax: number;
  /** The largest gRPC message this node sends or accepts (a batch, or a snapshot chunk). */
  readonly messageBytesMax: number;
  /** First wait before reconnecting to a peer that failed; doubles up to the max, with jitter. */
  readonly reconnectBackoffInitialMs: number;
  readonly reconnectBackoffMaxMs: number;
  /** A stream the peer has not answered (with its headers) within this is given up and retried. */
  readonly streamOpenTimeoutMs: number;
  /** HTTP/2 pings on an idle connection, and how long to wait for the answer, to notice a dead peer. */
  readonly keepaliveIntervalMs: number;
  readonly keepaliveTimeoutMs: number;
  /** Bytes of snapshot data per Peer.Snapshot message. */
  readonly snapshotChunkBytes: number;
  /** Deadline of one whole snapshot transfer, sending or receiving. */
  readonly snapshotTimeoutMs: number;
  /** Snapshots this node receives at once (one per group at most); more are refused with RESOURCE_EXHAUSTED. */
  readonly snapshotReceivesMax: number;
  /** On close, how long streams and calls in flight get to finish before they are cancelled. */
  readonly closeGraceMs: number;
  /**
   * Node-level liveness: an empty batch goes to a peer when nothing else did for this long, so that a
   * peer can tell this node is up while all its groups are quiet (quiesced followers watch their
   * leader's node; see Store's peerSilenceTicksMax, which must span several of these).
   */
  readonly nodeHeartbeatMs: number;
}

const MiB = 1024 * 1024;

export const TRANSPORT_DEFAULTS: TransportLimits = {
  queueMessagesMax: 4096,
  queueBytesMax: 32 * MiB,
  batchBytesMax: 4 * MiB,
  messageBytesMax: 64 * MiB,
  reconnectBackoffInitialMs: 50,
  reconnectBackoffMaxMs: 2_000,
  streamOpenTimeoutMs: 5_000,
  keepaliveIntervalMs: 10_000,
  keepaliveTimeoutMs: 5_000,
  snapshotChunkBytes: 1 * MiB,
  snapshotTimeoutMs: 10 * 60_000,
  snapshotReceivesMax: 8,
  closeGraceMs: 1_000,
  nodeHeartbeatMs: 100,
};

/** Slack between a chunk's data and the gRPC message that carries it (field tags, lengths). */
const CHUNK_FRAMING_BYTES = 1024;

export class TransportLimitError extends RangeError {
  override readonly name = "TransportLimitError";
}

export function resolveLimits(overrides: Partial<TransportLimits> = {}): TransportLimits {
  const limits = { ...TRANSPORT_DEFAULTS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new TransportLimitError(`Transport limit ${name} must be a positive integer, got ${value}`);
  }
  const fail = (message: string): never => {
    throw new TransportLimitError(message);
  };
  // Batch sizes are estimates; half the message limit leaves room for an estimate that is short.
  if (limits.batchBytesMax * 2 > limits.messageBytesMax) fail(`batchBytesMax (${limits.batchBytesMax}) must be at most half of messageBytesMax (${limits.messageBytesMax})`);
  if (limits.batchBytesMax > limits.queueBytesMax) fail(`batchBytesMax (${limits.batchBytesMax}) must not exceed queueBytesMax (${limits.queueBytesMax})`);
  if (limits.snapshotChunkBytes + CHUNK_FRAMING_BYTES > limits.messageBytesMax) fail(`snapshotChunkBytes (${limits.snapshotChunkBytes}) must leave ${CHUNK_FRAMING_BYTES} bytes under messageBytesMax (${limits.messageBytesMax})`);
  if (limits.reconnectBackoffInitialMs > limits.reconnectBackoffMaxMs) fail(`reconnectBackoffInitialMs (${limits.reconnectBackoffInitialMs}) must not exceed reconnectBackoffMaxMs (${limits.reconnectBackoffMaxMs})`);
  return limits;
}
