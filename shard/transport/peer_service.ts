// The receiving side of the peer API: Peer.Raft streams whose batches are stepped into the store, and
// Peer.Snapshot calls whose chunks are fed, as they arrive, to the store's receiveSnapshot. A batch or
// message this node cannot read is counted, logged and skipped (Raft recovers from a lost message);
// the stream stays open. A snapshot is acknowledged only once the store staged it and Raft has its
// MsgSnap; any failure ends the call with a status that says why.

import * as grpc from "@grpc/grpc-js";
import type { peer, ServiceHandlers, Writable } from "../../proto/index.js";
import type { MsgSnap, NodeId } from "../../raft/index.js";
import type { FaultInjector } from "../fault_injector.js";
import { StoreError } from "../store_error.js";
import type { GroupId } from "../wal/record.js";
import type { TransportLimits } from "./limits.js";
import type { PeerTransportMethods } from "./peer_definition.js";
import { PeerProtocolError } from "./peer_protocol_error.js";
import type { DecodedRaftBatch, RaftBatch } from "./raft_batch.js";
import { decodeMeta } from "./snapshot_meta_codec.js";
import type { TransportHost } from "./transport_host.js";

type IncomingRaft = grpc.ServerDuplexStream<DecodedRaftBatch, RaftBatch>;
type IncomingSnapshot = grpc.ServerReadableStream<peer.SnapshotChunk, Writable<peer.SnapshotAck>>;

export interface PeerServiceStats {
  readonly receivedMessages: number;
  readonly receivedBatches: number;
  /** Messages skipped: unreadable, addressed to another node, or arrived before a host was attached. */
  readonly rejectedMessages: number;
  /** Batches skipped whole: their bytes are not a RaftBatch (framing broken outside any one message). */
  readonly rejectedBatches: number;
  readonly snapshotsReceived: number;
  readonly snapshotsRefused: number;
}

export interface PeerServiceOptions {
  readonly nodeId: NodeId;
  readonly limits: TransportLimits;
  readonly host: () => TransportHost | undefined;
  readonly log: (line: string) => void;
  /** Test faults only: peers whose batches and snapshots are lost on arrival. */
  readonly faults?: FaultInjector;
}

export class PeerService {
  /** Open incoming Raft streams, ended by this side when the server stops. */
  private readonly streams = new Set<IncomingRaft>();
  /** Groups with a snapshot being received; a second one for the same group is refused. */
  private readonly receiving = new Set<GroupId>();
  private counts = { receivedMessages: 0, receivedBatches: 0, rejectedMessages: 0, rejectedBatches: 0, snapshotsReceived: 0, snapshotsRefused: 0 };
  /** When a batch (empty ones too: the peers' node heartbeats) last came from each node, in performance.now() ms. */
  private readonly heardAtMs = new Map<NodeId, number>();

  constructor(private readonly options: PeerServiceOptions) {}

  stats(): PeerServiceStats {
    return { ...this.counts };
  }

  /** When anything last came from `node` (performance.now() ms), or undefined if nothing ever did. */
  lastHeardMs(node: NodeId): number | undefined {
    return this.heardAtMs.get(node);
  }

  handlers(): ServiceHandlers<PeerTransportMethods> {
    return {
      Raft: (call) => this.serveRaft(call),
      Snapshot: (call, done) => {
        this.serveSnapshot(call).then(
          (ack) => done(null, ack),
          (error: unknown) => done(statusOf(error)),
        );
      },
    };
  }

  /** Ends every incoming Raft stream cleanly (status OK), so that a server shutdown need not wait for them. */
  endStreams(): void {
    for (const call of this.streams) call.end();
    this.streams.clear();
  }

  private serveRaft(call: IncomingRaft): void {
    this.streams.add(call);
    // Headers at once: the sender takes them as the sign that its stream is up.
    call.sendMetadata(new grpc.Metadata());
    call.on("data", (decoded: DecodedRaftBatch) => this.receiveBatch(decoded));
    call.on("end", () => {
      this.streams.delete(call);
      call.end();
    });
    call.on("error", () => this.streams.delete(call));
    call.on("cancelled", () => this.streams.delete(call));
  }

  private receiveBatch(decoded: DecodedRaftBatch): void {
    if (!decoded.ok) {
      this.counts.rejectedBatches++;
      this.options.log(`node ${this.options.nodeId}: dropped a Raft batch: ${decoded.error.message}`);
      return;
    }
    const { batch } = decoded;
    if (this.options.faults?.dropsFrom(batch.fromNode) === true) return; // lost, heartbeat and all
    this.counts.receivedBatches++;
    if (batch.toNode === this.options.nodeId) this.heardAtMs.set(batch.fromNode, performance.now());
    const host = this.options.host();
    if (batch.toNode !== this.options.nodeId || host === undefined) {
      const total = batch.groups.reduce((n, g) => n + g.messages.length + g.unreadable.length, 0);
      this.counts.rejectedMessages += total;
      const why = host === undefined ? "no store is attached yet" : `it is addressed to node ${batch.toNode}; check the peer addresses of node ${batch.fromNode}`;
      this.options.log(`node ${this.options.nodeId}: dropped a batch of ${total} messages from node ${batch.fromNode}: ${why}`);
      return;
    }
    for (const { group, messages, unreadable } of batch.groups) {
      for (const error of unreadable) {
        this.counts.rejectedMessages++;
        this.options.log(`node ${this.options.nodeId}: dropped a message of group ${group} from node ${batch.fromNode}: ${error.message}`);
      }
      this.counts.receivedMessages += messages.length;
      for (const message of messages) host.step(group, message);
    }
  }

  private async serveSnapshot(call: IncomingSnapshot): Promise<Writable<peer.SnapshotAck>> {
    const host = this.options.host();
    if (host === undefined) throw new TransportStatusError(grpc.status.UNAVAILABLE, `node ${this.options.nodeId} has no store attached yet; retry`);
    // A cancelled call (the sender gave up, or its deadline passed) ends the chunks with an error.
    call.on("cancelled", () => call.destroy(new TransportStatusError(grpc.status.CANCELLED, "the sender cancelled the snapshot")));
    const chunks = call[Symbol.asyncIterator]() as AsyncIterator<peer.SnapshotChunk>;
    const first = await chunks.next();
    if (first.done === true || first.value.chunk !== "header") throw new PeerProtocolError("A snapshot call must open with its header chunk");
    const { header } = first.value;
    if (this.options.faults?.dropsFrom(header.fromNode) === true) throw new TransportStatusError(grpc.status.UNAVAILABLE, `node ${header.fromNode} is cut off (test fault)`);
    if (header.toNode !== this.options.nodeId) throw new PeerProtocolError(`A snapshot for node ${header.toNode} reached node ${this.options.nodeId}; check the peer addresses of node ${header.fromNode}`);
    const group = header.group;
    if (this.receiving.has(group) || this.receiving.size >= this.options.limits.snapshotReceivesMax) {
      this.counts.snapshotsRefused++;
      const why = this.receiving.has(group) ? `a snapshot of group ${group} is already being received` : `${this.receiving.size} snapshots are being received (snapshotReceivesMax)`;
      throw new TransportStatusError(grpc.status.RESOURCE_EXHAUSTED, `Node ${this.options.nodeId} refused a snapshot: ${why}; the leader retries later`);
    }
    this.receiving.add(group);
    try {
      const message: MsgSnap = { type: "snap", from: header.from, to: header.to, term: header.term, snapshot: { meta: decodeMeta(header.meta), data: new Uint8Array(0) } };
      let receivedBytes = 0;
      const data = async function* (): AsyncGenerator<Uint8Array> {
        for (;;) {
          const next = await chunks.next();
          if (next.done === true) return;
          if (next.value.chunk !== "data") throw new PeerProtocolError(`A snapshot of group ${group} has a second header, or an empty chunk`);
          receivedBytes += next.value.data.byteLength;
          yield next.value.data;
        }
      };
      await host.receiveSnapshot(group, message, data());
      this.counts.snapshotsReceived++;
      return { group, index: message.snapshot.meta.index, receivedBytes };
    } finally {
      this.receiving.delete(group);
    }
  }
}

/** A failure that already knows its gRPC status. */
export class TransportStatusError extends Error {
  override readonly name = "TransportStatusError";
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

function statusOf(error: unknown): Partial<grpc.StatusObject> {
  if (error instanceof TransportStatusError) return { code: error.code, details: error.message };
  if (error instanceof PeerProtocolError) return { code: grpc.status.INVALID_ARGUMENT, details: error.message };
  if (error instanceof StoreError) return { code: grpc.status[error.code], details: `${error.message} (${error.hint})` };
  return { code: grpc.status.INTERNAL, details: error instanceof Error ? error.message : String(error) };
}
