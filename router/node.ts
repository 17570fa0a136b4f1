// One shardkv node, put together: the node's LevelDB and write-ahead log under its data dir, the
// store with a replica of each of its shards, the peer transport, and the etcd-compatible gRPC
// services on the client address. A new data dir bootstraps from the flags; an existing one finds
// its cluster in LevelDB and ignores them.
//
// A node answers for every shard: from its own replica when it holds one (a follower proposes and
// reads through Raft), and by forwarding over the peer address to a node that holds the shard when
// it does not, or when only the leader can answer (routed_shard_access.ts).

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { loadEtcdApi, loadPeerApi } from "../proto/index.js";
import type { LevelDb } from "../shard/keyspace.js";
import { approximateBytes, openNodeDb } from "../shard/node_db.js";
import { Store } from "../shard/store.js";
import { PeerTransport } from "../shard/transport/index.js";
import { Wal } from "../shard/wal/wal.js";
import { bootstrapConfig, type ClusterConfig, ClusterConfigError, loadClusterConfig, type Member, saveClusterConfig } from "./cluster_config.js";
import { type ClientLimits, resolveClientLimits } from "./client_limits.js";
import { ClusterService } from "./cluster_service.js";
import { ConnectionLimiter, limitUnaryCalls } from "./connection_limit.js";
import { ForwardClient } from "./forward_client.js";
import { ForwardService } from "./forward_service.js";
import { KvService } from "./kv_service.js";
import { type StatusHttpServer, startStatusServer } from "./http_server.js";
import { LeaseService } from "./lease_service.js";
import { MaintenanceService } from "./maintenance_service.js";
import type { MemberInfo } from "./members.js";
import { RoutedShardAccess } from "./routed_shard_access.js";
import { LocalShardAccess } from "./shard_access.js";
import { ShardMap } from "./shard_map.js";
import { WatchService } from "./watch_service.js";
import { ElectionService } from "./election_service.js";
import { LockService } from "./lock_service.js";

export interface NodeOptions {
  readonly name: string;
  readonly dataDir: string;
  /** "host:port" for clients (etcd's API). */
  readonly listenClient: string;
  /** "host:port" for the other nodes (the peer API). */
  readonly listenPeer: string;
  /** "host:port" for GET /health and GET /metrics; no HTTP server when absent. */
  readonly listenHttp?: string;
  readonly initialCluster: string;
  readonly initialShards: number;
  /** Replicas per shard; by default 3, or every member when there are fewer (etcd's usual cluster size). */
  readonly replicas?: number;
  readonly tickMs?: number;
  /** What clients may send (router/client_limits.ts); the defaults are etcd-like. */
  readonly limits?: Partial<ClientLimits>;
  readonly log?: (line: string) => void;
}

export class ShardkvNode {
  private constructor(
    readonly member: Member,
    readonly config: ClusterConfig,
    private readonly db: LevelDb,
    private readonly wal: Wal,
    readonly store: Store,
    private readonly transport: PeerTransport,
    private readonly forwardClient: ForwardClient,
    private readonly server: grpc.Server,
    /** Where clients reach this node (the bound port when --listen-client asked for port 0). */
    readonly clientAddress: string,
    readonly peerAddress: string,
    private readonly log: (line: string) => void,
  ) {}

  static async start(options: NodeOptions): Promise<ShardkvNode> {
    const log = options.log ?? (() => undefined);
    const limits = resolveClientLimits(options.limits);
    mkdirSync(options.dataDir, { recursive: true });
    const db = await openNodeDb(join(options.dataDir, "db"));
    let config = await loadClusterConfig(db);
    if (config === undefined) {
      config = bootstrapConfig(options.initialCluster, options.initialShards, options.replicas);
      await saveClusterConfig(db, config);
      log(`bootstrapped cluster ${config.clusterId} with ${config.members.length} members and ${config.shards.length} shards`);
    } else {
      log(`found cluster ${config.clusterId} in ${options.dataDir}; the bootstrap flags are ignored`);
    }
    const member = config.members.find((m) => m.name === options.name);
    if (member === undefined) {
      throw new ClusterConfigError(`this node's --name "${options.name}" is not a member of the cluster (${config.members.map((m) => m.name).join(", ")})`);
    }
    const wal = await Wal.open({ dir: join(options.dataDir, "wal"), log });
    const peers = new Map(config.members.filter((m) => m.id !== member.id).map((m) => [m.id, m.peerAddress] as const));
    // The Forward service runs on this node's replicas, which exist only once the store opened.
    let local: LocalShardAccess | undefined;
    const forwardService = new ForwardService(() => local);
    const transport = new PeerTransport({
      nodeId: member.id,
      listenAddress: options.listenPeer,
      peers,
      log,
      services: [{ definition: loadPeerApi().Forward.definition, implementation: forwardService.handlers() }],
    });
    let node: ShardkvNode | undefined;
    const store = await Store.open({
      nodeId: member.id,
      db,
      wal,
      transport,
      ...(options.tickMs === undefined ? {} : { tickMs: options.tickMs }),
      limits: { keyBytesMax: limits.keyBytesMax, valueBytesMax: limits.valueBytesMax, txnOpsMax: limits.txnOpsMax },
      log,
      onFatal: (error) => {
        log(`fatal: ${error.message}; the node stops`);
        process.exitCode = 70;
        void node?.stop();
      },
    });
    transport.attach(store);
    const held = new Set(store.groups());
    for (const shard of config.shards) {
      if (shard.replicas.includes(member.id) && !held.has(shard.id)) await store.createGroup(shard.id, shard.replicas);
    }
    const peerAddress = await transport.start();
    local = new LocalShardAccess(store, new ShardMap(config.shardMapEpoch, config.shards), member.memberId, config.clusterId, {
      dbSizeBytes: () => approximateBytes(db),
    });
    const forwardClient = new ForwardClient(peers);
    const access = new RoutedShardAccess(local, forwardClient, member.id);
    const api = loadEtcdApi();
    const server = new grpc.Server({ "grpc.max_receive_message_length": limits.requestBytesMax });
    const connections = new ConnectionLimiter(limits.requestsPerConnectionMax);
    const serve = (definition: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation): void =>
      server.addService(definition, limitUnaryCalls(definition, handlers, connections));
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(options.listenClient, grpc.ServerCredentials.createInsecure(), (error, bound) => (error === null ? resolve(bound) : reject(error)));
    });
    const clientAddress = `${options.listenClient.slice(0, options.listenClient.lastIndexOf(":"))}:${port}`;
    // Other members' client addresses are not in --initial-cluster; the meta group will carry them.
    const members: MemberInfo[] = config.members.map((m) => ({
      id: m.memberId,
      nodeId: m.id,
      name: m.name,
      peerURLs: [`http://${m.peerAddress}`],
      clientURLs: m.id === member.id ? [`http://${clientAddress}`] : [],
      isLearner: false,
    }));
    serve(api.KV.definition, new KvService(access).handlers());
    serve(api.Lease.definition, new LeaseService(access).handlers());
    serve(api.Maintenance.definition, new MaintenanceService(access, members).handlers());
    serve(api.Cluster.definition, new ClusterService(access, members).handlers());
    // Services whose calls never end on their own: stop() ends them before waiting for calls to finish.
    const watch = new WatchService(access);
    const lock = new LockService(access, watch.budget);
    const election = new ElectionService(access, watch.budget);
    serve(api.Watch.definition, watch.handlers());
    serve(api.Lock.definition, lock.handlers());
    serve(api.Election.definition, election.handlers());
    const longCalls = [watch, lock, election];
    node = new ShardkvNode(member, config, db, wal, store, transport, forwardClient, server, clientAddress, peerAddress, log);
    node.longCalls.push(...longCalls);
    if (options.listenHttp !== undefined) {
      // A port already taken must not leave the rest of the node running.
      node.http = await startStatusServer(options.listenHttp, store, wal).catch(async (error: unknown) => {
        await node?.stop();
        throw error;
      });
      log(`node ${member.name} serves /health and /metrics on http://${node.http.address}`);
    }
    log(`node ${member.name} (id ${member.id}) serves clients on ${clientAddress} and peers on ${peerAddress}`);
    return node;
  }

  private stopping: Promise<void> | undefined;
  /** The services with calls that never end on their own (watch streams, waiting locks). */
  private readonly longCalls: { close(): void }[] = [];
  /** The --listen-http server, when asked for; `httpAddress` is where it listens. */
  private http: StatusHttpServer | undefined;

  get httpAddress(): string | undefined {
    return this.http?.address;
  }

  /** Stops taking requests, lets what is in flight finish, and closes the stores. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      // Clients first (calls in flight finish, new ones are refused), then the replicas, then peers.
      await this.http?.close();
      for (const service of this.longCalls) service.close();
      await shutDownGracefully(this.server, SHUTDOWN_GRACE_MS);
      this.log("client server stopped");
      await this.store.close();
      this.log("replicas stopped");
      this.forwardClient.close();
      await this.transport.close();
      this.log("peer transport stopped");
      await this.wal.close();
      await this.db.close();
    })();
    return this.stopping;
  }
}

/**
 * How long calls in flight may take to finish when the node stops. A client that keeps its
 * connection open without a call (or sends garbage and never closes) would hold a graceful shutdown
 * forever; past this the remaining connections are cut.
 */
const SHUTDOWN_GRACE_MS = 3_000;

async function shutDownGracefully(server: grpc.Server, graceMs: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
