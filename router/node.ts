// One shardkv node, put together: the node's LevelDB and write-ahead log under its data dir, the
// store with a replica of each of its shards, the peer transport, and the etcd-compatible gRPC
// services on the client address. A new data dir bootstraps from the flags; an existing one finds
// its cluster in LevelDB and ignores them.
//
// Until requests are forwarded between nodes (the router's next step), every node holds a replica of
// every shard (--replicas equal to the number of members): a follower then answers writes (Raft
// forwards the proposal to the leader and the node answers once it applied the entry itself) and
// linearizable reads (ReadIndex from the leader, served from its own applied state).

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { loadEtcdApi } from "../proto/index.js";
import type { LevelDb } from "../shard/keyspace.js";
import { approximateBytes, openNodeDb } from "../shard/node_db.js";
import { Store } from "../shard/store.js";
import { PeerTransport } from "../shard/transport/index.js";
import { Wal } from "../shard/wal/wal.js";
import { bootstrapConfig, type ClusterConfig, ClusterConfigError, loadClusterConfig, type Member, saveClusterConfig } from "./cluster_config.js";
import { ClusterService } from "./cluster_service.js";
import { KvService } from "./kv_service.js";
import { LeaseService } from "./lease_service.js";
import { MaintenanceService } from "./maintenance_service.js";
import type { MemberInfo } from "./members.js";
import { LocalShardAccess } from "./shard_access.js";
import { ShardMap } from "./shard_map.js";

export interface NodeOptions {
  readonly name: string;
  readonly dataDir: string;
  /** "host:port" for clients (etcd's API). */
  readonly listenClient: string;
  /** "host:port" for the other nodes (the peer API). */
  readonly listenPeer: string;
  readonly initialCluster: string;
  readonly initialShards: number;
  readonly replicas: number;
  readonly tickMs?: number;
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
    private readonly server: grpc.Server,
    /** Where clients reach this node (the bound port when --listen-client asked for port 0). */
    readonly clientAddress: string,
    readonly peerAddress: string,
    private readonly log: (line: string) => void,
  ) {}

  static async start(options: NodeOptions): Promise<ShardkvNode> {
    const log = options.log ?? (() => undefined);
    mkdirSync(options.dataDir, { recursive: true });
    const db = await openNodeDb(join(options.dataDir, "db"));
    let config = await loadClusterConfig(db);
    if (config === undefined) {
      config = bootstrapConfig(options.initialCluster, options.initialShards, options.replicas);
      if (options.replicas !== config.members.length) {
        throw new ClusterConfigError(
          `--replicas ${options.replicas} with ${config.members.length} members: until requests are forwarded between nodes, every node must hold every shard; set --replicas ${config.members.length}`,
        );
      }
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
    const transport = new PeerTransport({ nodeId: member.id, listenAddress: options.listenPeer, peers, log });
    let node: ShardkvNode | undefined;
    const store = await Store.open({
      nodeId: member.id,
      db,
      wal,
      transport,
      ...(options.tickMs === undefined ? {} : { tickMs: options.tickMs }),
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
    const access = new LocalShardAccess(store, new ShardMap(config.shardMapEpoch, config.shards), member.memberId, config.clusterId, {
      dbSizeBytes: () => approximateBytes(db),
    });
    const api = loadEtcdApi();
    const server = new grpc.Server();
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
    server.addService(api.KV.definition, new KvService(access).handlers());
    server.addService(api.Lease.definition, new LeaseService(access).handlers());
    server.addService(api.Maintenance.definition, new MaintenanceService(access, members).handlers());
    server.addService(api.Cluster.definition, new ClusterService(access, members).handlers());
    node = new ShardkvNode(member, config, db, wal, store, transport, server, clientAddress, peerAddress, log);
    log(`node ${member.name} (id ${member.id}) serves clients on ${clientAddress} and peers on ${peerAddress}`);
    return node;
  }

  private stopping: Promise<void> | undefined;

  /** Stops taking requests, lets what is in flight finish, and closes the stores. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      // Clients first (calls in flight finish, new ones are refused), then the replicas, then peers.
      await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
      this.log("client server stopped");
      await this.store.close();
      this.log("replicas stopped");
      await this.transport.close();
      this.log("peer transport stopped");
      await this.wal.close();
      await this.db.close();
    })();
    return this.stopping;
  }
}
