// etcd's grpc-gateway on the client port: `curl -X POST http://127.0.0.1:2379/v3/kv/range -d
// '{"key":"Zm9v"}'` as against etcd. Each POST path names one unary method (the table is etcd
// 3.4's, with its /v3beta/ spelling too); the JSON body becomes the method's protobuf request
// (proto/json_mapping.ts) and goes to the same handler a gRPC call reaches, bounded per connection
// like one; the answer, or the failure as etcd's gateway shapes it ({"error", "message", "code"}
// with the HTTP status grpc-gateway v1 gives the code, plus our "hint"), goes back as JSON.
// Streaming methods (watch, lease keep-alive, snapshot, observe) answer as etcd's gateway does: the
// body holds one request, or for watch and keep-alive any number of them one after another; each
// answer is a line {"result": ...}; the answer stays open, as etcd's, until the client goes away
// (gateway_stream.ts).

import type { IncomingMessage, ServerResponse } from "node:http";
import * as grpc from "@grpc/grpc-js";
import type protobuf from "protobufjs";
import { CORS_HEADERS, GatewayCall, type GatewayMethod, HTTP_STATUS, type Route } from "./gateway_call.js";
import { JsonMappingError, jsonToProtobuf, jsonValues, protobufToJson } from "../proto/json_mapping.js";
import { HINT_METADATA_KEY, type GrpcFailure } from "./errors.js";
import { serveStream } from "./gateway_stream.js";

const UNARY_PATHS: Readonly<Record<string, string>> = {
  "kv/range": "etcdserverpb.KV/Range",
  "kv/put": "etcdserverpb.KV/Put",
  "kv/deleterange": "etcdserverpb.KV/DeleteRange",
  "kv/txn": "etcdserverpb.KV/Txn",
  "kv/compaction": "etcdserverpb.KV/Compact",
  "lease/grant": "etcdserverpb.Lease/LeaseGrant",
  "lease/revoke": "etcdserverpb.Lease/LeaseRevoke",
  "kv/lease/revoke": "etcdserverpb.Lease/LeaseRevoke",
  "lease/timetolive": "etcdserverpb.Lease/LeaseTimeToLive",
  "kv/lease/timetolive": "etcdserverpb.Lease/LeaseTimeToLive",
  "lease/leases": "etcdserverpb.Lease/LeaseLeases",
  "kv/lease/leases": "etcdserverpb.Lease/LeaseLeases",
  "cluster/member/add": "etcdserverpb.Cluster/MemberAdd",
  "cluster/member/remove": "etcdserverpb.Cluster/MemberRemove",
  "cluster/member/update": "etcdserverpb.Cluster/MemberUpdate",
  "cluster/member/list": "etcdserverpb.Cluster/MemberList",
  "cluster/member/promote": "etcdserverpb.Cluster/MemberPromote",
  "maintenance/alarm": "etcdserverpb.Maintenance/Alarm",
  "maintenance/status": "etcdserverpb.Maintenance/Status",
  "maintenance/defragment": "etcdserverpb.Maintenance/Defragment",
  "maintenance/hash": "etcdserverpb.Maintenance/Hash",
  "maintenance/hashkv": "etcdserverpb.Maintenance/HashKV",
  "maintenance/transfer-leadership": "etcdserverpb.Maintenance/MoveLeader",
  "maintenance/downgrade": "etcdserverpb.Maintenance/Downgrade",
  "auth/enable": "etcdserverpb.Auth/AuthEnable",
  "auth/disable": "etcdserverpb.Auth/AuthDisable",
  "auth/status": "etcdserverpb.Auth/AuthStatus",
  "auth/authenticate": "etcdserverpb.Auth/Authenticate",
  "auth/user/add": "etcdserverpb.Auth/UserAdd",
  "auth/user/get": "etcdserverpb.Auth/UserGet",
  "auth/user/list": "etcdserverpb.Auth/UserList",
  "auth/user/delete": "etcdserverpb.Auth/UserDelete",
  "auth/user/changepw": "etcdserverpb.Auth/UserChangePassword",
  "auth/user/grant": "etcdserverpb.Auth/UserGrantRole",
  "auth/user/revoke": "etcdserverpb.Auth/UserRevokeRole",
  "auth/role/add": "etcdserverpb.Auth/RoleAdd",
  "auth/role/get": "etcdserverpb.Auth/RoleGet",
  "auth/role/list": "etcdserverpb.Auth/RoleList",
  "auth/role/delete": "etcdserverpb.Auth/RoleDelete",
  "auth/role/grant": "etcdserverpb.Auth/RoleGrantPermission",
  "auth/role/revoke": "etcdserverpb.Auth/RoleRevokePermission",
  "lock/lock": "v3lockpb.Lock/Lock",
  "lock/unlock": "v3lockpb.Lock/Unlock",
  "election/campaign": "v3electionpb.Election/Campaign",
  "election/proclaim": "v3electionpb.Election/Proclaim",
  "election/leader": "v3electionpb.Election/Leader",
  "election/resign": "v3electionpb.Election/Resign",
};

const STREAMING_PATHS: Readonly<Record<string, string>> = {
  watch: "etcdserverpb.Watch/Watch",
  "lease/keepalive": "etcdserverpb.Lease/LeaseKeepAlive",
  "maintenance/snapshot": "etcdserverpb.Maintenance/Snapshot",
  "election/observe": "v3electionpb.Election/Observe",
};

export class HttpGateway {
  private readonly routes = new Map<string, Route>();

  /**
   * `methods` by gRPC path ("/etcdserverpb.KV/Range"), filled in by whoever adds the services (then
   * call `refresh`); `types` holds the etcd .proto files (loadEtcdJsonTypes). A JSON body may weigh
   * up to `bodyBytesMax`.
   */
  constructor(
    private readonly methods: ReadonlyMap<string, GatewayMethod>,
    private readonly types: protobuf.Root,
    private readonly bodyBytesMax: number,
  ) {
    this.refresh();
  }

  /** Routes every path whose method is in `methods` now; the others answer 404 until then. */
  refresh(): void {
    for (const [path, grpcPath] of Object.entries({ ...UNARY_PATHS, ...STREAMING_PATHS })) {
      const method = this.methods.get(`/${grpcPath}`);
      if (method === undefined) continue;
      const [service, name] = grpcPath.split("/") as [string, string];
      const rpc = this.types.lookupService(service).methods[name];
      if (rpc?.resolvedRequestType == null || rpc.resolvedResponseType == null) throw new Error(`the etcd .proto files lack ${grpcPath}`);
      const route = { method, requestType: rpc.resolvedRequestType, responseType: rpc.resolvedResponseType };
      this.routes.set(`/v3/${path}`, route);
      this.routes.set(`/v3beta/${path}`, route);
    }
  }

  /** Whether `path` is the gateway's (under /v3/ or /v3beta/). */
  static serves(path: string): boolean {
    return path.startsWith("/v3/") || path.startsWith("/v3beta/");
  }

  async handle(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    if (request.method === "OPTIONS") {
      response.writeHead(200, CORS_HEADERS).end();
      return;
    }
    const route = this.routes.get(path);
    if (route === undefined) {
      plain(response, 404, "Not Found\n");
      return;
    }
    if (request.method !== "POST") {
      plain(response, 405, "Method Not Allowed\n");
      return;
    }
    const body = await readBody(request, this.bodyBytesMax);
    if (body === undefined) {
      response.setHeader("connection", "close"); // the rest of the body is left unread
      fail(response, grpc.status.RESOURCE_EXHAUSTED, `shardkv: the request body is over ${this.bodyBytesMax} bytes`, "send smaller requests (the limit follows --max-request-bytes)");
      return;
    }
    const { definition, handler } = route.method;
    let requests: unknown[];
    try {
      const values = jsonValues(body.toString("utf8"));
      // A unary or server-streaming method takes one request; an empty body is an empty request.
      if (!definition.requestStream && values.length > 1) throw new JsonMappingError(`${route.requestType.name}: expected one JSON object, got ${values.length}`);
      requests = (values.length === 0 ? [{}] : values).map((value) => definition.requestDeserialize(Buffer.from(jsonToProtobuf(route.requestType, value))));
    } catch (error) {
      if (!(error instanceof SyntaxError || error instanceof JsonMappingError)) throw error;
      fail(response, grpc.status.INVALID_ARGUMENT, error.message, "the body is the method's request as JSON: bytes in base64, 64-bit integers as numbers or strings");
      return;
    }
    if (definition.responseStream) {
      serveStream(route, requests, request, response);
      return;
    }
    const call = new GatewayCall(requests[0], request);
    response.once("close", () => {
      if (!response.writableFinished) call.cancel();
    });
    (handler as grpc.handleUnaryCall<unknown, unknown>)(call as unknown as grpc.ServerUnaryCall<unknown, unknown>, (error, reply) => {
      if (error !== null && error !== undefined) {
        const failure = error as Partial<GrpcFailure>;
        const hint = failure.metadata?.get(HINT_METADATA_KEY)[0];
        fail(response, failure.code ?? grpc.status.UNKNOWN, failure.details ?? String(error), typeof hint === "string" ? hint : undefined);
        return;
      }
      json(response, 200, protobufToJson(route.responseType, definition.responseSerialize(reply)));
    });
  }
}

/** The body, or undefined once it passes `bytesMax` (the rest is not read). */
async function readBody(request: IncomingMessage, bytesMax: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > bytesMax) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function fail(response: ServerResponse, code: grpc.status, message: string, hint: string | undefined): void {
  const body: Record<string, unknown> = { error: message, message, code };
  if (hint !== undefined) body["hint"] = hint;
  json(response, HTTP_STATUS[code] ?? 500, body);
}

export function json(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent || response.destroyed) return;
  const text = JSON.stringify(body);
  response.writeHead(status, { ...CORS_HEADERS, "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  response.end(text);
}

function plain(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { ...CORS_HEADERS, "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(text) });
  response.end(text);
}
