// The one outgoing Peer.Raft stream from this node to one peer, opened on the first message, and the
// bounded queue in front of it. The stream is "up" once the peer answered with its headers; until then
// messages wait (within the queue's bounds). When the stream fails, the peer is "down" for a backoff
// period: its queue is dropped, new messages are dropped at once (Raft resends), and the groups that
// lost messages are handed out, once per group per period, to be reported unreachable. After the
// period the next message opens a new stream. A stream that cannot take more (HTTP/2 flow control)
// leaves messages in the queue until it drains, so the queue's bounds are the only buffer that grows.
//
// Heartbeats: the Ready of every group is sent in the same turn, so the heartbeats of all groups to
// this peer already travel in one batch (one write, one HTTP/2 frame). Idle groups go quiet instead
// of heartbeating at all (raft/quiescence.ts); what stands in for their heartbeats is one per node
// pair: `ping` writes an empty batch when nothing else went to the peer since the last ping, which
// tells the peer this node is alive (PeerTransport.silentMs).

import * as grpc from "@grpc/grpc-js";
import type { Message, NodeId } from "../../raft/index.js";
import type { GroupId } from "../wal/record.js";
import { Backoff } from "./backoff.js";
import type { TransportLimits } from "./limits.js";
import type { PeerClient } from "./peer_definition.js";
import type { DecodedRaftBatch, RaftBatch } from "./raft_batch.js";
import { SendQueue } from "./send_queue.js";

type RaftCall = grpc.ClientDuplexStream<RaftBatch, DecodedRaftBatch>;

type StreamState =
  | { readonly kind: "idle" }
  | { readonly kind: "connecting"; readonly call: RaftCall; readonly timer: NodeJS.Timeout }
  | { readonly kind: "up"; readonly call: RaftCall; writable: boolean }
  | { readonly kind: "down"; readonly timer: NodeJS.Timeout }
  | { readonly kind: "closed" };

export type StreamStateKind = StreamState["kind"];

export interface PeerStreamStats {
  readonly state: StreamStateKind;
  readonly queuedMessages: number;
  readonly queuedBytes: number;
  readonly sentMessages: number;
  readonly sentBatches: number;
  /** Refused because the queue was at one of its bounds. */
  readonly droppedQueueFull: number;
  /** Dropped because the peer was down, or queued when the stream failed or closed. */
  readonly droppedUnreachable: number;
  /** Streams that came up, and streams that failed or were never answered. */
  readonly streamsOpened: number;
  readonly streamsFailed: number;
}

export type Offer = "queued" | "full" | "down";

export interface PeerStreamOptions {
  readonly nodeId: NodeId;
  readonly peerId: NodeId;
  readonly client: PeerClient;
  readonly limits: TransportLimits;
  readonly random: () => number;
  /** Something became sendable, or groups wait to be reported unreachable: flush soon. */
  readonly wake: () => void;
  readonly log: (line: string) => void;
}

export class PeerStream {
  private state: StreamState = { kind: "idle" };
  private readonly queue: SendQueue;
  private readonly backoff: Backoff;
  /** Groups that lost messages during this down period and were already handed out as unreachable. */
  private reported = new Set<GroupId>();
  private unreachable = new Set<GroupId>();
  private counts = { sentMessages: 0, sentBatches: 0, droppedQueueFull: 0, droppedUnreachable: 0, streamsOpened: 0, streamsFailed: 0 };
  /** A batch was written since the last ping: the peer heard from us, no empty batch is needed. */
  private sentSincePing = false;

  constructor(private readonly options: PeerStreamOptions) {
    const { limits } = options;
    this.queue = new SendQueue(limits.queueMessagesMax, limits.queueBytesMax);
    this.backoff = new Backoff(limits.reconnectBackoffInitialMs, limits.reconnectBackoffMaxMs, options.random);
  }

  /** Down: the last stream failed and its backoff period has not ended (snapshots are not tried either). */
  get isDown(): boolean {
    return this.state.kind === "down" || this.state.kind === "closed";
  }

  stats(): PeerStreamStats {
    return { state: this.state.kind, queuedMessages: this.queue.messages, queuedBytes: this.queue.bytes, ...this.counts };
  }

  offer(group: GroupId, message: Message): Offer {
    if (this.isDown) {
      this.counts.droppedUnreachable++;
      this.markUnreachable([group]);
      return "down";
    }
    if (!this.queue.offer(group, message)) {
      this.counts.droppedQueueFull++;
      return "full";
    }
    return "queued";
  }

  /** The groups to report unreachable now; each at most once per down period. */
  takeUnreachable(): GroupId[] {
    const groups = [...this.unreachable];
    this.unreachable.clear();
    return groups;
  }

  /** Opens the stream if messages wait for it, and writes what the stream can take now. */
  flush(): void {
    const state = this.state;
    if (this.queue.messages === 0) return;
    if (state.kind === "idle") this.open();
    if (state.kind !== "up" || !state.writable) return;
    const { nodeId, peerId, limits } = this.options;
    while (this.queue.messages > 0 && state.writable) {
      const groups = this.queue.take(limits.batchBytesMax);
      state.writable = state.call.write({ fromNode: nodeId, toNode: peerId, groups });
      for (const { messages } of groups) this.counts.sentMessages += messages.length;
      this.counts.sentBatches++;
      this.sentSincePing = true;
    }
  }

  /**
   * Node-level liveness, called every nodeHeartbeatMs: an empty batch, unless a batch went out since
   * the last call. Opens the stream if there is none yet; a down peer is left to its backoff.
   */
  ping(): void {
    const state = this.state;
    if (this.sentSincePing) {
      this.sentSincePing = false;
      return;
    }
    if (state.kind === "idle") this.open();
    if (state.kind !== "up" || !state.writable) return;
    const { nodeId, peerId } = this.options;
    state.writable = state.call.write({ fromNode: nodeId, toNode: peerId, groups: [] });
  }

  private open(): void {
    const call = this.options.client.Raft(new grpc.Metadata(), {});
    const timer = setTimeout(() => {
      if (this.state.kind === "connecting" && this.state.call === call) call.cancel();
    }, this.options.limits.streamOpenTimeoutMs);
    this.state = { kind: "connecting", call, timer };
    // The peer's handler sends its headers at once: that is the sign the stream reached it.
    call.on("metadata", () => {
      if (this.state.kind !== "connecting" || this.state.call !== call) return;
      clearTimeout(this.state.timer);
      this.state = { kind: "up", call, writable: true };
      this.counts.streamsOpened++;
      this.backoff.reset();
      this.options.wake();
    });
    call.on("drain", () => {
      if (this.state.kind !== "up" || this.state.call !== call) return;
      this.state.writable = true;
      this.options.wake();
    });
    // The peer never writes on this stream (it opens its own toward us); reading keeps the call flowing.
    call.on("data", () => undefined);
    // Every failure also ends in a status, handled there; without a listener an error event would throw.
    call.on("error", () => undefined);
    call.on("status", (status: grpc.StatusObject) => this.lost(call, `${grpc.status[status.code]}: ${status.details}`));
  }

  /** The stream ended (the peer went away, closed it, or never answered): down for a backoff period. */
  private lost(call: RaftCall, reason: string): void {
    const state = this.state;
    if ((state.kind !== "connecting" && state.kind !== "up") || state.call !== call) return;
    if (state.kind === "connecting") clearTimeout(state.timer);
    this.counts.streamsFailed++;
    this.reported = new Set();
    this.counts.droppedUnreachable += this.queue.messages;
    this.markUnreachable(this.queue.clear());
    const delayMs = this.backoff.nextDelayMs();
    this.options.log(`peer ${this.options.peerId}: the Raft stream ended (${reason}); retrying in ${delayMs} ms`);
    const timer = setTimeout(() => {
      if (this.state.kind === "down" && this.state.timer === timer) this.state = { kind: "idle" };
    }, delayMs);
    this.state = { kind: "down", timer };
  }

  private markUnreachable(groups: Iterable<GroupId>): void {
    let added = false;
    for (const group of groups) {
      if (this.reported.has(group)) continue;
      this.reported.add(group);
      this.unreachable.add(group);
      added = true;
    }
    if (added) this.options.wake();
  }

  /**
   * Ends the stream: half-closes it so the peer sees a clean end, waits up to `closeGraceMs` for its
   * status, then cancels. Queued messages are dropped and counted.
   */
  async close(): Promise<void> {
    const state = this.state;
    this.state = { kind: "closed" };
    this.counts.droppedUnreachable += this.queue.messages;
    this.queue.clear();
    if (state.kind === "connecting" || state.kind === "down") clearTimeout(state.timer);
    if (state.kind !== "connecting" && state.kind !== "up") return;
    const { call } = state;
    const ended = new Promise<void>((resolve) => call.once("status", () => resolve()));
    call.end();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.limits.closeGraceMs)));
    await Promise.race([ended, grace]);
    clearTimeout(timer);
    call.cancel();
  }
}
