// Loads the .proto files with @grpc/proto-loader and hands out typed gRPC services: the etcd v3
// API and our peer API. Reads files only; opens no socket. Load once at start-up and keep the result.
//
// Options, and why:
// - keepCase: field names as written in the .proto files (etcd's `create_revision`, `TTL`,
//   `peerURLs`), the names of ETCD-API.md and of etcd's JSON.
// - longs: String for the etcd files and our own client API (shardkv/v1). Lease ids are random 63-bit numbers and member/cluster ids
//   random 64-bit ones: a JS number would silently round them. Strings are exact, need no
//   dependency in callers (unlike Long), match proto3's JSON mapping, and convert with BigInt().
// - longs: Number for the peer file only: its 64-bit fields are Raft terms, indexes and replica ids,
//   which raft/ keeps as numbers (< 2^53); decoding straight to numbers spares the hot path a
//   string per field.
// - enums: Number: etcd clients send numbers, and a number outside the enum passes through
//   (UnknownEnumValue in wire_types.ts) instead of becoming a name we do not have.
// - bytes: Buffer: keys and values stay binary. A decoded Buffer is a view into the received
//   message: copy it (Buffer.from) before keeping it for long, or it pins the whole message.
// - defaults: every field is present after decoding (proto3 defaults; a missing sub-message is
//   null), so handlers never meet `undefined` for a scalar.
// - oneofs: each oneof gets a virtual property naming the member that is set (RequestOp.request,
//   WatchRequest.request_union, Compare.target_union, RaftMessage.type).

import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { type EtcdServiceSpecs, etcdServiceSpecs } from "./etcd_services.js";
import { type ForwardSpec, forwardSpec, type PeerSpec, peerSpec } from "./peer_types.js";
import { shardkvAdminSpec, shardkvKvSpec } from "./shardkv_services.js";
import type {
  LoadedService,
  MethodKind,
  MethodSpecs,
  ServiceSpec,
  TypedClientConstructor,
  TypedServiceDefinition,
} from "./service_types.js";

/** The etcd files, relative to the proto root; each imports the others by these paths. */
export const etcdProtoFiles = [
  "etcd/api/mvccpb/kv.proto",
  "etcd/api/authpb/auth.proto",
  "etcd/api/etcdserverpb/rpc.proto",
  "etcd/api/v3lockpb/v3lock.proto",
  "etcd/api/v3electionpb/v3election.proto",
] as const;

export const peerProtoFiles = ["shardkv/peer/v1/peer.proto", "shardkv/peer/v1/forward.proto"] as const;

/** Our own client API; loaded with the etcd options (its int64s are client-facing: strings). */
export const shardkvProtoFiles = ["shardkv/v1/kv.proto", "shardkv/v1/admin.proto"] as const;

/**
 * The folder that holds the .proto files: this module's own folder when run from source (tsx,
 * vitest), or ../../proto from dist/proto, since tsc does not copy .proto files.
 */
export const protoRoot: string = findProtoRoot();

function findProtoRoot(): string {
  const candidates = [import.meta.dirname, resolve(import.meta.dirname, "../../proto")];
  for (const dir of candidates) {
    if (existsSync(join(dir, etcdProtoFiles[2]))) return dir;
  }
  throw new Error(
    `Cannot find the .proto files: looked for ${etcdProtoFiles[2]} under ${candidates.join(" and ")}`,
  );
}

const commonOptions = {
  keepCase: true,
  enums: Number,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
  includeDirs: [protoRoot],
} satisfies protoLoader.Options;

export const etcdLoaderOptions = { ...commonOptions, longs: String } satisfies protoLoader.Options;
export const peerLoaderOptions = { ...commonOptions, longs: Number } satisfies protoLoader.Options;

export type EtcdApi = {
  readonly [K in keyof EtcdServiceSpecs]: LoadedService<EtcdServiceSpecs[K]["methods"]>;
} & { readonly packageDefinition: protoLoader.PackageDefinition };

export interface PeerApi {
  readonly Peer: LoadedService<PeerSpec["methods"]>;
  readonly Forward: LoadedService<ForwardSpec["methods"]>;
  readonly packageDefinition: protoLoader.PackageDefinition;
}

export interface ShardkvApi {
  readonly KV: LoadedService<typeof shardkvKvSpec.methods>;
  readonly Admin: LoadedService<typeof shardkvAdminSpec.methods>;
  readonly packageDefinition: protoLoader.PackageDefinition;
}

export function loadEtcdPackageDefinition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync([...etcdProtoFiles], etcdLoaderOptions);
}

export function loadPeerPackageDefinition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync([...peerProtoFiles], peerLoaderOptions);
}

/** The etcd v3 services (KV, Watch, Lease, Cluster, Maintenance, Auth, Lock, Election). */
export function loadEtcdApi(): EtcdApi {
  const packageDefinition = loadEtcdPackageDefinition();
  const root = grpc.loadPackageDefinition(packageDefinition);
  const s = etcdServiceSpecs;
  return {
    packageDefinition,
    KV: loadedService(root, s.KV),
    Watch: loadedService(root, s.Watch),
    Lease: loadedService(root, s.Lease),
    Cluster: loadedService(root, s.Cluster),
    Maintenance: loadedService(root, s.Maintenance),
    Auth: loadedService(root, s.Auth),
    Lock: loadedService(root, s.Lock),
    Election: loadedService(root, s.Election),
  };
}

/** shardkv.peer.v1.Peer: Raft batches and snapshots between nodes. */
export function loadPeerApi(): PeerApi {
  const packageDefinition = loadPeerPackageDefinition();
  const root = grpc.loadPackageDefinition(packageDefinition);
  return { packageDefinition, Peer: loadedService(root, peerSpec), Forward: loadedService(root, forwardSpec) };
}

/** shardkv.v1.KV and shardkv.v1.Admin: our own client API, beside etcd's. */
export function loadShardkvApi(): ShardkvApi {
  const packageDefinition = protoLoader.loadSync([...shardkvProtoFiles], etcdLoaderOptions);
  const root = grpc.loadPackageDefinition(packageDefinition);
  return { packageDefinition, KV: loadedService(root, shardkvKvSpec), Admin: loadedService(root, shardkvAdminSpec) };
}

/** Finds a service in the loaded tree and checks it against its spec before typing it. */
function loadedService<M extends MethodSpecs>(root: grpc.GrpcObject, spec: ServiceSpec<M>): LoadedService<M> {
  const ctor = lookupService(root, spec.name);
  checkAgainstSpec(ctor.service, spec);
  return {
    spec,
    // Safe: checkAgainstSpec has matched every method name and streaming flag with the spec.
    definition: ctor.service as unknown as TypedServiceDefinition<M>,
    Client: ctor as unknown as TypedClientConstructor<M>,
  };
}

type GrpcNode = grpc.GrpcObject | grpc.ServiceClientConstructor | grpc.ProtobufTypeDefinition;

function lookupService(root: grpc.GrpcObject, fullName: string): grpc.ServiceClientConstructor {
  let node: GrpcNode = root;
  for (const part of fullName.split(".")) {
    const next: GrpcNode | undefined = typeof node === "function" || isTypeDefinition(node) ? undefined : node[part];
    if (next === undefined) throw new Error(`Cannot find service ${fullName} in the loaded .proto files`);
    node = next;
  }
  if (typeof node !== "function") throw new Error(`${fullName} in the loaded .proto files is not a service`);
  return node;
}

function isTypeDefinition(node: grpc.GrpcObject | grpc.ProtobufTypeDefinition): node is grpc.ProtobufTypeDefinition {
  return typeof node["format"] === "string";
}

const streamFlags: Readonly<Record<MethodKind, readonly [requestStream: boolean, responseStream: boolean]>> = {
  unary: [false, false],
  serverStream: [false, true],
  clientStream: [true, false],
  bidiStream: [true, true],
};

function checkAgainstSpec(service: grpc.ServiceDefinition, spec: ServiceSpec<MethodSpecs>): void {
  const loaded = Object.keys(service).sort();
  const expected = Object.keys(spec.methods).sort();
  if (loaded.join(",") !== expected.join(",")) {
    throw new Error(`Service ${spec.name} has methods [${loaded.join(", ")}] in the .proto files but [${expected.join(", ")}] in its spec`);
  }
  for (const [name, method] of Object.entries(spec.methods)) {
    const definition = service[name];
    const [requestStream, responseStream] = streamFlags[method.kind];
    if (definition?.requestStream !== requestStream || definition.responseStream !== responseStream) {
      throw new Error(`Method ${spec.name}.${name} is not ${method.kind} in the .proto files, unlike its spec`);
    }
  }
}
