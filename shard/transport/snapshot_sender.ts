// Sends one snapshot over a Peer.Snapshot client stream: the header (the MsgSnap without its data),
// then the store's chunks as they are read, waiting for the stream to drain whenever gRPC's buffer is
// full, so that memory holds about one chunk however large the shard. Resolves with the receiver's
// ack, which it sends only once the store staged the data and handed the MsgSnap to Raft; any
// failure (the peer's status, the deadline, an abort, a chunk that could not be read) rejects.

import { once } from "node:events";
import * as grpc from "@grpc/grpc-js";
import type { peer, Writable } from "../../proto/index.js";
import type { MsgSnap, NodeId } from "../../raft/index.js";
import type { GroupId } from "../wal/record.js";
import type { PeerClient } from "./peer_definition.js";
import { encodeMeta } from "./snapshot_meta_codec.js";

export interface SnapshotSendRequest {
  readonly fromNode: NodeId;
  readonly group: GroupId;
  readonly message: MsgSnap;
  readonly chunks: AsyncIterable<Uint8Array>;
  readonly timeoutMs: number;
  /** Aborting cancels the call (the transport closing). */
  readonly signal: AbortSignal;
}

export async function sendSnapshot(client: PeerClient, request: SnapshotSendRequest): Promise<peer.SnapshotAck> {
  const { message, signal } = request;
  signal.throwIfAborted();
  let failure: unknown;
  let call: grpc.ClientWritableStream<Writable<peer.SnapshotChunk>> | undefined;
  const answered = new Promise<peer.SnapshotAck>((resolve, reject) => {
    call = client.Snapshot(new grpc.Metadata(), { deadline: Date.now() + request.timeoutMs }, (error, ack) => {
      if (error !== null) reject(error);
      else if (ack === undefined) reject(new Error(`peer ${message.to} ended the snapshot call without an ack`));
      else resolve(ack);
    });
  });
  // Marks the promise handled and lets the loop below stop early; `await answered` still rethrows.
  const ended = answered.then(
    () => undefined,
    (error: unknown) => {
      failure ??= error;
    },
  );
  const stream = call!;
  const cancel = () => stream.cancel();
  signal.addEventListener("abort", cancel, { once: true });
  try {
    stream.write({ header: header(request) });
    for await (const chunk of request.chunks) {
      if (failure !== undefined) break;
      if (!stream.write({ data: chunk })) await drained(stream, ended);
    }
    if (failure === undefined) stream.end();
  } catch (error) {
    // Reading the snapshot failed: the receiver must not take a stream cut short for a whole one.
    stream.cancel();
    throw error;
  } finally {
    // Once the ack or the failure is in, an abort has nothing left to cancel.
    void ended.then(() => signal.removeEventListener("abort", cancel));
  }
  return await answered;
}

/**
 * The header travels without dataBytes and dataCrc32c (0): the chunks are read from LevelDB as they
 * go, so neither is known up front, and the store's chunk format ends with its own trailer (pairs,
 * bytes, CRC32C) that the receiving store checks before it accepts the snapshot.
 */
function header({ fromNode, group, message }: SnapshotSendRequest): Writable<peer.SnapshotHeader> {
  return { fromNode, toNode: message.to, group, from: message.from, to: message.to, term: message.term, meta: encodeMeta(message.snapshot.meta), dataBytes: 0, dataCrc32c: 0 };
}

/** Waits until the call can take more, or until it ended (then the caller sees `failure`). */
async function drained(stream: grpc.ClientWritableStream<Writable<peer.SnapshotChunk>>, ended: Promise<void>): Promise<void> {
  const stop = new AbortController();
  try {
    await Promise.race([once(stream, "drain", { signal: stop.signal }).catch(() => undefined), ended]);
  } finally {
    stop.abort();
  }
}
