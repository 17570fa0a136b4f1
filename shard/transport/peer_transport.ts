// The node's peer transport over gRPC: it serves the Peer service on the node's address, keeps one
// outgoing Peer.Raft stream per peer (peer_stream.ts), and streams snapshots on Peer.Snapshot calls of
// their own (snapshot_sender.ts). `send` only queues: once per turn of the event loop (setImmediate),
// every peer's queue goes out as RaftBatches holding the messages of every group (group commit of
// sends, as the store groups its fsyncs). Calls into the store (unreachable and snapshot reports) are
// made from that flush or from gRPC events, never from inside `send`, which the store calls mid-turn.

import * as grpc from "@grpc/grpc-js";
import type { Message, MsgSnap, NodeId } from "../../raft/index.js";
import { type FaultInjector, NO_FAULTS } from "../fault_injector.js";
import type { Transport } from "../store.js";
import type { GroupId } from "../wal/record.js";
import { resolveLimits, type TransportLimits } from "./limits.js";
import { channelOptions, closePeerClients, openPeerClients, type PeerClients } from "./peer_channel.js";
import { peerService } from "./peer_definition.js";
import { PeerService, type PeerServiceStats } from "./peer_service.js";
import { PeerStream, type PeerStreamStats } from "./peer_stream.js";
import { sendSnapshot } from "./snapshot_sender.js";
import type { TransportHost } from "./transport_host.js";

export interface PeerTransportOptions {
  readonly nodeId: NodeId;
  /** Where this node serves the Peer service, "host:port"; port 0 lets the OS choose (see `start`). */
  readonly listenAddress: string;
  /** The other nodes' "host:port"; more can be added with `setPeer`. */
  readonly peers?: ReadonlyMap<NodeId, string>;
  readonly limits?: Partial<TransportLimits>;
  /** Uniform in [0, 1), for the reconnect jitter. */
  readonly random?: () => number;
  readonly log?: (line: string) => void;
  /**
   * More services to serve on the peer address beside Peer (the router's Forward): one port and one
   * server per node for everything between nodes.
   */
  readonly services?: readonly PeerServerService[];
  /** Test faults only (shardkv --test-faults): peers whose messages are lost; none by default. */
  readonly faults?: FaultInjector;
}

export interface PeerServerService {
  readonly definition: grpc.ServiceDefinition;
  readonly implementation: grpc.UntypedServiceImplementation;
}

export interface TransportStats {
  readonly peers: ReadonlyMap<NodeId, PeerStreamStats>;
  readonly service: PeerServiceStats;
  /** Messages for nodes whose address this node does not know. */
  readonly droppedNoAddress: number;
  readonly snapshotsSent: number;
  readonly snapshotsFailed: number;
  /** MsgSnaps not sent because one to the same peer and group was still in flight. */
  readonly snapshotsCoalesced: number;
}

interface Peer {
  readonly address: string;
  readonly clients: PeerClients;
  readonly stream: PeerStream;
}

export class PeerTransport implements Transport {
  private readonly limits: TransportLimits;
  private readonly log: (line: string) => void;
  private readonly peers = new Map<NodeId, Peer>();
  private readonly service: PeerService;
  private host: TransportHost | undefined;
  private server: grpc.Server | undefined;
  private boundAddress: string | undefined;
  private flushScheduled = false;
  private closed = false;
  /** MsgSnaps from `send`, started at the next flush. */
  private snapshotsToStart: { group: GroupId; message: MsgSnap }[] = [];
  /** Invariant: at most one snapshot in flight per (peer, group); keyed `${peer}/${group}`. */
  private readonly snapshotsInFlight = new Map<string, Promise<void>>();
  private readonly aborter = new AbortController();
  /** Pings every peer each nodeHeartbeatMs once started (node-level liveness, PeerStream.ping). */
  private pingTimer: NodeJS.Timeout | undefined;
  /** What silentMs counts from for a peer never heard from. */
  private readonly createdAtMs = performance.now();
  /** Groups whose messages went to a node with no known address, to report unreachable at the flush. */
  private noAddress = new Map<NodeId, Set<GroupId>>();
  private counts = { droppedNoAddress: 0, snapshotsSent: 0, snapshotsFailed: 0, snapshotsCoalesced: 0 };
  private readonly faults: FaultInjector;

  constructor(private readonly options: PeerTransportOptions) {
    this.limits = resolveLimits(options.limits);
    this.log = options.log ?? (() => undefined);
    this.faults = options.faults ?? NO_FAULTS;
    this.service = new PeerService({ nodeId: options.nodeId, limits: this.limits, host: () => this.host, log: this.log, faults: this.faults });
    for (const [node, address] of options.peers ?? []) this.setPeer(node, address);
  }

  /** Gives the transport the store it serves; the store needs the transport to open, so this comes after. */
  attach(host: TransportHost): void {
    this.host = host;
  }

  /** Sets (or changes) a peer's address. A changed address starts a new stream to it. */
  setPeer(node: NodeId, address: string): void {
    if (node === this.options.nodeId) return;
    const old = this.peers.get(node);
    if (old?.address === address) return;
    if (old !== undefined) void this.dropPeer(old);
    const clients = openPeerClients(address, this.limits);
    const stream = new PeerStream({
      nodeId: this.options.nodeId,
      peerId: node,
      client: clients.raft,
      limits: this.limits,
      random: this.options.random ?? Math.random,
      wake: () => this.schedule(),
      log: this.log,
    });
    this.peers.set(node, { address, clients, stream });
  }

  /** Starts serving the Peer service; resolves with the bound "host:port" (the OS's port for port 0). */
  async start(): Promise<string> {
    if (this.closed) throw new Error(`Cannot start node ${this.options.nodeId}'s peer transport: it was closed`);
    if (this.server !== undefined) throw new Error(`Node ${this.options.nodeId}'s peer server is already running on ${this.boundAddress}`);
    const server = new grpc.Server(channelOptions(this.limits));
    server.addService(peerService().definition, this.service.handlers());
    for (const extra of this.options.services ?? []) server.addService(extra.definition, extra.implementation);
    const address = this.boundAddress ?? this.options.listenAddress;
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, bound) => (error === null ? resolve(bound) : reject(error)));
    });
    this.server = server;
    // A restart binds the port the first start was given, so peers find the node where they left it.
    this.boundAddress = `${address.slice(0, address.lastIndexOf(":"))}:${port}`;
    this.pingTimer ??= setInterval(() => {
      for (const [node, peer] of this.peers) if (!this.faults.dropsTo(node)) peer.stream.ping();
    }, this.limits.nodeHeartbeatMs).unref();
    return this.boundAddress;
  }

  /**
   * Milliseconds since anything (a batch, or an empty one: its node heartbeat) came from `node`, or
   * since this transport was made if nothing ever did. Quiesced followers wake when it grows past
   * their leader's allowance (Store's peerSilenceTicksMax).
   */
  silentMs(node: NodeId): number {
    return performance.now() - (this.service.lastHeardMs(node) ?? this.createdAtMs);
  }

  /** The bound "host:port", once started. */
  get address(): string | undefined {
    return this.boundAddress;
  }

  send(group: GroupId, messages: readonly Message[]): void {
    if (this.closed) return;
    for (const message of messages) {
      if (message.type === "snap") {
        this.snapshotsToStart.push({ group, message });
        continue;
      }
      if (this.faults.dropsTo(message.to)) continue; // lost, as on a cut network: Raft retries
      const peer = this.peers.get(message.to);
      if (peer === undefined) {
        this.counts.droppedNoAddress++;
        let groups = this.noAddress.get(message.to);
        if (groups === undefined) this.noAddress.set(message.to, (groups = new Set()));
        groups.add(group);
        continue;
      }
      peer.stream.offer(group, message);
    }
    this.schedule();
  }

  stats(): TransportStats {
    const peers = new Map<NodeId, PeerStreamStats>();
    for (const [node, peer] of this.peers) peers.set(node, peer.stream.stats());
    return { peers, service: this.service.stats(), ...this.counts };
  }

  private schedule(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** Once per turn: write every peer's batches, start snapshots, report what could not be delivered. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.closed) return;
    for (const peer of this.peers.values()) peer.stream.flush();
    const snapshots = this.snapshotsToStart;
    this.snapshotsToStart = [];
    for (const { group, message } of snapshots) this.startSnapshot(group, message);
    const host = this.host;
    if (host === undefined) return;
    for (const [node, peer] of this.peers) for (const group of peer.stream.takeUnreachable()) host.reportUnreachable(group, node);
    const noAddress = this.noAddress;
    this.noAddress = new Map();
    for (const [node, groups] of noAddress) for (const group of groups) host.reportUnreachable(group, node);
  }

  private startSnapshot(group: GroupId, message: MsgSnap): void {
    const host = this.host;
    if (host === undefined) return;
    const key = `${message.to}/${group}`;
    if (this.snapshotsInFlight.has(key)) {
      // The one in flight reports for the follower's progress when it ends; Raft asks again if need be.
      this.counts.snapshotsCoalesced++;
      return;
    }
    const peer = this.peers.get(message.to);
    if (peer === undefined || peer.stream.isDown || this.faults.dropsTo(message.to)) {
      this.counts.snapshotsFailed++;
      host.reportSnapshot(group, message.to, false);
      return;
    }
    const running = this.runSnapshot(host, peer, group, message).finally(() => this.snapshotsInFlight.delete(key));
    this.snapshotsInFlight.set(key, running);
  }

  private async runSnapshot(host: TransportHost, peer: Peer, group: GroupId, message: MsgSnap): Promise<void> {
    let delivered = false;
    try {
      const chunks = host.snapshotChunks(group, this.limits.snapshotChunkBytes);
      await sendSnapshot(peer.clients.snapshot, { fromNode: this.options.nodeId, group, message, chunks, timeoutMs: this.limits.snapshotTimeoutMs, signal: this.aborter.signal });
      delivered = true;
      this.counts.snapshotsSent++;
    } catch (error) {
      this.counts.snapshotsFailed++;
      this.log(`node ${this.options.nodeId}: the snapshot of group ${group} at index ${message.snapshot.meta.index} to node ${message.to} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    host.reportSnapshot(group, message.to, delivered);
  }

  /** Stops serving: incoming Raft streams are ended, snapshots being received get `closeGraceMs` to finish. */
  async stopServer(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    this.service.endStreams();
    let timer: NodeJS.Timeout | undefined;
    const shutdown = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.limits.closeGraceMs)));
    await Promise.race([shutdown, grace]);
    clearTimeout(timer);
    server.forceShutdown();
  }

  /**
   * Ends every outgoing stream, cancels snapshots being sent (each reported undelivered to the store),
   * and stops the server. Messages still queued are dropped and counted. Resolves once all of it is done.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pingTimer);
    this.aborter.abort();
    const peers = [...this.peers.values()];
    this.peers.clear();
    await Promise.all([...peers.map((peer) => this.dropPeer(peer)), ...this.snapshotsInFlight.values(), this.stopServer()]);
  }

  private async dropPeer(peer: Peer): Promise<void> {
    await peer.stream.close();
    closePeerClients(peer.clients);
  }
}
