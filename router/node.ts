// One shardkv node, put together: the node's LevelDB and write-ahead log under its data dir, the
// store with a replica of each of its shards, the peer transport, and the etcd-compatible gRPC
// services on the client address. A new data dir bootstraps from the flags; an existing one finds
// its cluster in LevelDB and ignores them.
//
// A node answers for every shard: from its own replica when it holds one (a follower proposes and
// reads through Raft), and by forwarding over the peer address to a node that holds the shard when
// it does not, or when only the leader can answer (routed_shard_access.ts).

import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { kvServerDefinition, loadEtcdApi, loadPeerApi, loadShardkvApi } from "../proto/index.js";
import type { LevelDb } from "../shard/keyspace.js";
import { approximatePrefixBytes, compactAll, filesBytes, openNodeDb } from "../shard/node_db.js";
import type { FaultInjector } from "../shard/fault_injector.js";
import { Store } from "../shard/store.js";
import { PeerTransport } from "../shard/transport/index.js";
import { Wal } from "../shard/wal/wal.js";
import { bootstrapConfig, type ClusterConfig, ClusterConfigError, loadClusterConfig, type Member, saveClusterConfig } from "./cluster_config.js";
import { type ClientLimits, resolveClientLimits } from "./client_limits.js";
import { AuthService } from "./auth_service.js";
import { ClusterService } from "./cluster_service.js";
import { ConnectionLimiter, limitUnaryCalls } from "./connection_limit.js";
import { ForwardClient } from "./forward_client.js";
import { ForwardService } from "./forward_service.js";
import { GrpcHealth } from "./grpc_health.js";
import { KvService } from "./kv_service.js";
import { StatusHttpServer, nodeMetrics, nodeStatusRoutes, statusRequestListener } from "./http_server.js";
import type { GrpcCallStats } from "./grpc_call_stats.js";
import { ClientPort } from "./client_port.js";
import type { GatewayMethod } from "./gateway_call.js";
import { HttpGateway } from "./http_gateway.js";
import { loadEtcdJsonTypes } from "../proto/json_mapping.js";
import { LeaseService } from "./lease_service.js";
import { MaintenanceService } from "./maintenance_service.js";
import { type MemberInfo, memberInfo, updateMembers } from "./members.js";
import { META_SHARD } from "./meta_records.js";
import { MetaSync } from "./meta_sync.js";
import { LeaderBalancer, type LeaderBalanceSettings } from "./leader_balance.js";
import { leaseHome } from "./lease_home.js";
import { StubSweeper, type StubSweepSettings } from "./lease_stubs.js";
import { RoutedShardAccess } from "./routed_shard_access.js";
import { LocalShardAccess } from "./shard_access.js";
import { ShardMap } from "./shard_map.js";
import { ShardkvAdminService } from "./shardkv_admin_service.js";
import { ShardkvKvService } from "./shardkv_kv_service.js";
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
  /** How often lease stubs whose lease is gone are looked for (router/lease_stubs.ts); tests make it quicker. */
  readonly stubSweep?: Partial<StubSweepSettings>;
  /** How leaders are spread over the nodes (router/leader_balance.ts); tests make it quicker. */
  readonly leaderBalance?: Partial<LeaderBalanceSettings>;
  /** What clients may send (router/client_limits.ts); the defaults are etcd-like. */
  readonly limits?: Partial<ClientLimits>;
  readonly log?: (line: string) => void;
  /** Test faults only (shardkv's hidden --test-faults, test/fault/): lost peer messages, a skewed tick clock and wall clock. */
  readonly faults?: FaultInjector;
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
    /** The client port's listener, and the HTTP server it hands HTTP/1.1 connections to. */
    private readonly clientPort: ClientPort,
    private readonly clientHttp: HttpServer,
    /** Where clients reach this node (the bound port when --listen-client asked for port 0). */
    readonly clientAddress: string,
    readonly peerAddress: string,
    private readonly log: (line: string) => void,
  ) {}

  static async start(options: NodeOptions): Promise<ShardkvNode> {
    const log = options.log ?? (() => undefined);
    const limits = resolveClientLimits(options.limits);
    mkdirSync(options.dataDir, { recursive: true });
    const dbDir = join(options.dataDir, "db");
    const db = await openNodeDb(dbDir);
    const dbSizeBytes = (): Promise<number> => filesBytes(dbDir);
    const { config, member } = await clusterOf(db, options, log);
    const wal = await Wal.open({ dir: join(options.dataDir, "wal"), log });
    const peers = new Map(config.members.filter((m) => m.id !== member.id).map((m) => [m.id, m.peerAddress] as const));
    // The Forward service runs on this node's replicas, which exist only once the store opened.
    let local: LocalShardAccess | undefined;
    let metaSync: MetaSync | undefined;
    const forwardService = new ForwardService(
      () => local,
      () => metaSync?.refresh() ?? Promise.resolve(),
    );
    const transport = new PeerTransport({
      nodeId: member.id,
      listenAddress: options.listenPeer,
      peers,
      log,
      services: [{ definition: loadPeerApi().Forward.definition, implementation: forwardService.handlers() }],
      ...(options.faults === undefined ? {} : { faults: options.faults }),
    });
    let node: ShardkvNode | undefined;
    const store = await Store.open({
      nodeId: member.id,
      db,
      wal,
      transport,
      ...(options.tickMs === undefined ? {} : { tickMs: options.tickMs }),
      // Test faults only: a skewed tick clock and wall clock. Production reads Date.now (the store's default).
      ...(options.faults === undefined ? {} : { tickRate: options.faults.tickRate.bind(options.faults), nowMs: options.faults.nowMs.bind(options.faults) }),
      limits: { keyBytesMax: limits.keyBytesMax, valueBytesMax: limits.valueBytesMax, txnOpsMax: limits.txnOpsMax },
      // Only a lease's home shard keeps its deadline; other shards hold stubs (lease_home.ts).
      isLeaseHome: (group, id) => local === undefined || leaseHome(local.map(), id).id === group,
      log,
      onFatal: (error) => {
        log(`fatal: ${error.message}; the node stops`);
        process.exitCode = 70;
        void node?.stop();
      },
    });
    transport.attach(store);
    const held = new Set(store.groups());
    if (config.metaReplicas.includes(member.id) && !held.has(META_SHARD)) await store.createGroup(META_SHARD, config.metaReplicas);
    for (const shard of config.shards) {
      if (shard.replicas.includes(member.id) && !held.has(shard.id)) await store.createGroup(shard.id, shard.replicas);
    }
    const peerAddress = await transport.start();
    local = new LocalShardAccess(store, new ShardMap(config.shardMapEpoch, config.shards), member.memberId, config.clusterId, {
      dbSizeBytes,
      compactDb: () => compactAll(db),
      prefixSizeBytes: (prefix) => approximatePrefixBytes(db, prefix),
    });
    const forwardClient = new ForwardClient(peers, options.faults);
    const access = new RoutedShardAccess(local, forwardClient, member.id, config.metaReplicas);
    // channelz (grpc-js's per-call and per-socket tracking for its introspection service) is off: we
    // serve no channelz, and a read profile showed its per-call bookkeeping on every call.
    const server = new grpc.Server({ "grpc.max_receive_message_length": limits.requestBytesMax, "grpc.enable_channelz": 0 });
    // One port for gRPC and HTTP (client_port.ts): the services below are added to `server`, and
    // the HTTP side's gateway reaches them through `gatewayMethods` once they are.
    const gatewayMethods = new Map<string, GatewayMethod>();
    const metrics = nodeMetrics(store, wal, {
      isLeader: () => {
        const first = access.map().shards[0];
        return first !== undefined && store.hasReplica(first.id) && store.replica(first.id).isLeader;
      },
      dbSizeBytes,
    });
    const statusRoutes = nodeStatusRoutes(store, metrics);
    const gateway = new HttpGateway(gatewayMethods, loadEtcdJsonTypes(), 2 * limits.requestBytesMax);
    const clientHttp = createHttpServer(statusRequestListener(statusRoutes, gateway));
    const clientPort = await ClientPort.listen(options.listenClient, server.createConnectionInjector(grpc.ServerCredentials.createInsecure()), clientHttp);
    const clientAddress = clientPort.address;
    // Other members' client addresses are not in --initial-cluster: the meta group brings them.
    const members: MemberInfo[] = config.members.map((m) => memberInfo(m, m.id === member.id ? clientAddress : ""));
    metaSync = linkMeta({ access, local, store, db, config, member, clientAddress, members, log });
    access.catchUpMap = () => metaSync?.refresh() ?? Promise.resolve();
    const longCalls = serveClientApi(server, gatewayMethods, metrics.grpcCalls, new ConnectionLimiter(limits.requestsPerConnectionMax), access, members, member);
    gateway.refresh();
    node = new ShardkvNode(member, config, db, wal, store, transport, forwardClient, server, clientPort, clientHttp, clientAddress, peerAddress, log);
    node.longCalls.push(...longCalls, metaSync);
    node.metaLink = metaSync;
    const balancer = new LeaderBalancer(
      store,
      member.id,
      () => [...access.map().shards, { id: META_SHARD, replicas: config.metaReplicas }],
      (peer) => transport.silentMs(peer),
      options.leaderBalance,
    );
    node.longCalls.push(balancer);
    balancer.start();
    const sweeper = new StubSweeper(access, store, log, options.stubSweep);
    node.longCalls.push(sweeper);
    sweeper.start();
    node.routing = access;
    metaSync.start();
    if (options.listenHttp !== undefined) {
      // A port already taken must not leave the rest of the node running.
      node.http = await StatusHttpServer.start(options.listenHttp, statusRoutes).catch(async (error: unknown) => {
        await node?.stop();
        throw error;
      });
      log(`node ${member.name} serves /health, /metrics and /version on http://${node.http.address}`);
    }
    log(`node ${member.name} (id ${member.id}) serves clients on ${clientAddress} and peers on ${peerAddress}`);
    return node;
  }

  private stopping: Promise<void> | undefined;
  /** The services with calls that never end on their own (watch streams, waiting locks). */
  private readonly longCalls: { close(): void }[] = [];
  private metaLink: MetaSync | undefined;
  private routing: RoutedShardAccess | undefined;

  /** The node's link to the meta group: the cached shard map and members, and publishing a new map. */
  get meta(): MetaSync {
    if (this.metaLink === undefined) throw new Error("the node has not finished starting");
    return this.metaLink;
  }

  /** The shard map this node routes by now (the meta group's, as last read). */
  shardMap(): ShardMap {
    if (this.routing === undefined) throw new Error("the node has not finished starting");
    return this.routing.map();
  }

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
      this.clientPort.close();
      for (const service of this.longCalls) service.close();
      await Promise.all([shutDownGracefully(this.server, SHUTDOWN_GRACE_MS), closeHttpGracefully(this.clientHttp, SHUTDOWN_GRACE_MS)]);
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

/** Ends the client port's HTTP connections: idle ones at once, busy ones after `graceMs`. */
async function closeHttpGracefully(server: HttpServer, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  await closed;
  clearTimeout(timer);
}

/** The cluster this node belongs to: found in its LevelDB, or bootstrapped from the flags. */
async function clusterOf(db: LevelDb, options: NodeOptions, log: (line: string) => void): Promise<{ config: ClusterConfig; member: Member }> {
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
  return { config, member };
}

/**
 * etcd's services and our own on the client server, each unary call bounded per connection.
 * Returns the services whose calls never end on their own (watch streams, waiting locks and
 * campaigns): stop() ends them before it waits for calls to finish.
 */
function serveClientApi(
  server: grpc.Server,
  gatewayMethods: Map<string, GatewayMethod>,
  calls: GrpcCallStats,
  connections: ConnectionLimiter,
  access: RoutedShardAccess,
  members: readonly MemberInfo[],
  member: Member,
): { close(): void }[] {
  const serve = (definition: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation): void => {
    const limited = calls.instrument(definition, limitUnaryCalls(definition, handlers, connections));
    server.addService(definition, limited);
    for (const [name, method] of Object.entries(definition)) {
      const handler = limited[name];
      if (handler !== undefined) gatewayMethods.set(method.path, { definition: method as grpc.MethodDefinition<unknown, unknown>, handler });
    }
  };
  const api = loadEtcdApi();
  // Range and Put through the hand-written codec (proto/kv_server_definition.ts); the rest as loaded.
  serve(kvServerDefinition(api.KV), new KvService(access).handlers());
  serve(api.Lease.definition, new LeaseService(access).handlers());
  serve(api.Maintenance.definition, new MaintenanceService(access, members).handlers());
  serve(api.Cluster.definition, new ClusterService(access, members).handlers());
  serve(api.Auth.definition, new AuthService(access).handlers());
  // Our own API beside etcd's (proto/shardkv/v1).
  const own = loadShardkvApi();
  serve(own.KV.definition, new ShardkvKvService(access).handlers());
  serve(own.Admin.definition, new ShardkvAdminService(access, member.id).handlers());
  const watch = new WatchService(access);
  const lock = new LockService(access, watch.budget);
  const election = new ElectionService(access, watch.budget);
  serve(api.Watch.definition, watch.handlers());
  serve(api.Lock.definition, lock.handlers());
  serve(api.Election.definition, election.handlers());
  // grpc.health.v1, which etcd serves beside its API; outside the per-connection bound, as a probe must be.
  const health = new GrpcHealth(server);
  return [health, watch, lock, election];
}

/**
 * The node's link to the meta group: it publishes this member (with the client address it bound),
 * routes by each newer map it reads there and saves it (a restart starts from the newest map seen,
 * not the bootstrap one), and fills in the members' client URLs.
 */
function linkMeta(parts: {
  access: RoutedShardAccess;
  local: LocalShardAccess;
  store: Store;
  db: LevelDb;
  config: ClusterConfig;
  member: Member;
  clientAddress: string;
  members: MemberInfo[];
  log: (line: string) => void;
}): MetaSync {
  const { access, local, store, db, config, member, clientAddress, members, log } = parts;
  return new MetaSync({
    access,
    holdsMeta: store.hasReplica(META_SHARD),
    self: { id: member.id, name: member.name, memberId: member.memberId, peerAddress: member.peerAddress, clientAddress },
    initialMap: local.map(),
    onMap: (map) => {
      local.updateMap(map);
      log(`shard map epoch ${map.epoch} from the meta group`);
      saveClusterConfig(db, { ...config, shardMapEpoch: map.epoch, shards: map.shards }).catch((error: unknown) =>
        log(`saving shard map epoch ${map.epoch} failed: ${String(error)}`),
      );
    },
    onMembers: (records) => updateMembers(members, records),
    log,
  });
}
