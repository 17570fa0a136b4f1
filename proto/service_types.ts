// Typed gRPC services. A service is described once, as data (`serviceSpec` with one `unary()`,
// `serverStream()`, ... per method, carrying the message types as phantom types); from it come the
// types of its loaded definition, of a server's handlers and of a client. The loader checks each
// loaded service against its spec (method names and streaming flags), which is what makes the
// single cast from proto-loader's untyped objects safe. A message is written as `Writable<T>` (what
// proto-loader's encoder accepts) unless its method names another written type: a method whose
// definition carries a codec of its own (the peer transport's Peer.Raft).

import type * as grpc from "@grpc/grpc-js";
import type { Writable } from "./wire_types.js";

export type MethodKind = "unary" | "serverStream" | "clientStream" | "bidiStream";

/**
 * One RPC: its kind at run time; at compile time its request and response as read (decoded) and as
 * written (`WReq`, `WRes`).
 */
export interface MethodSpec<K extends MethodKind, Req, Res, WReq = Writable<Req>, WRes = Writable<Res>> {
  readonly kind: K;
  /** Never set: carries the message types. */
  readonly messages?: { readonly request: Req; readonly response: Res; readonly writtenRequest: WReq; readonly writtenResponse: WRes };
}

export function unary<Req, Res>(): MethodSpec<"unary", Req, Res> {
  return { kind: "unary" };
}
export function serverStream<Req, Res>(): MethodSpec<"serverStream", Req, Res> {
  return { kind: "serverStream" };
}
export function clientStream<Req, Res>(): MethodSpec<"clientStream", Req, Res> {
  return { kind: "clientStream" };
}
export function bidiStream<Req, Res, WReq = Writable<Req>, WRes = Writable<Res>>(): MethodSpec<"bidiStream", Req, Res, WReq, WRes> {
  return { kind: "bidiStream" };
}

export type MethodSpecs = Readonly<Record<string, MethodSpec<MethodKind, unknown, unknown, unknown, unknown>>>;

export interface ServiceSpec<M extends MethodSpecs> {
  /** The full gRPC name, e.g. "etcdserverpb.KV". */
  readonly name: string;
  readonly methods: M;
}

export function serviceSpec<M extends MethodSpecs>(name: string, methods: M): ServiceSpec<M> {
  return { name, methods };
}

export type RequestOf<S> = S extends MethodSpec<MethodKind, infer Req, unknown, unknown, unknown> ? Req : never;
export type ResponseOf<S> = S extends MethodSpec<MethodKind, unknown, infer Res, unknown, unknown> ? Res : never;
export type WrittenRequestOf<S> = S extends MethodSpec<MethodKind, unknown, unknown, infer WReq, unknown> ? WReq : never;
export type WrittenResponseOf<S> = S extends MethodSpec<MethodKind, unknown, unknown, unknown, infer WRes> ? WRes : never;

/** proto-loader's method definition, with the two sides typed: write the written types, read decoded. */
export interface TypedMethodDefinition<Req, Res, WReq = Writable<Req>, WRes = Writable<Res>> {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly requestSerialize: (value: WReq) => Buffer;
  readonly requestDeserialize: (bytes: Buffer) => Req;
  readonly responseSerialize: (value: WRes) => Buffer;
  readonly responseDeserialize: (bytes: Buffer) => Res;
  readonly originalName?: string;
}

/** A loaded service definition; assignable to grpc-js's `ServiceDefinition` for `addService`. */
export type TypedServiceDefinition<M extends MethodSpecs> = {
  readonly [K in keyof M]: TypedMethodDefinition<RequestOf<M[K]>, ResponseOf<M[K]>, WrittenRequestOf<M[K]>, WrittenResponseOf<M[K]>>;
};

/** A server-side handler: it reads decoded requests and writes responses of the written type. */
export type Handler<S> =
  S extends MethodSpec<"unary", infer Req, unknown, unknown, infer WRes>
    ? grpc.handleUnaryCall<Req, WRes>
    : S extends MethodSpec<"serverStream", infer Req, unknown, unknown, infer WRes>
      ? grpc.handleServerStreamingCall<Req, WRes>
      : S extends MethodSpec<"clientStream", infer Req, unknown, unknown, infer WRes>
        ? grpc.handleClientStreamingCall<Req, WRes>
        : S extends MethodSpec<"bidiStream", infer Req, unknown, unknown, infer WRes>
          ? grpc.handleBidiStreamingCall<Req, WRes>
          : never;

/**
 * A service's implementation. Methods left out answer UNIMPLEMENTED (grpc-js's default handler),
 * which is how shardkv declines the parts of etcd's API it does not serve.
 */
export type ServiceHandlers<M extends MethodSpecs> = { readonly [K in keyof M]?: Handler<M[K]> };

/**
 * A client-side method, in grpc-js's full-argument form only (metadata and options always given):
 * one signature per kind keeps the types exact.
 */
export type ClientMethod<S> =
  S extends MethodSpec<"unary", unknown, infer Res, infer WReq, unknown>
    ? (
        request: WReq,
        metadata: grpc.Metadata,
        options: Partial<grpc.CallOptions>,
        callback: grpc.requestCallback<Res>,
      ) => grpc.ClientUnaryCall
    : S extends MethodSpec<"serverStream", unknown, infer Res, infer WReq, unknown>
      ? (
          request: WReq,
          metadata: grpc.Metadata,
          options: Partial<grpc.CallOptions>,
        ) => grpc.ClientReadableStream<Res>
      : S extends MethodSpec<"clientStream", unknown, infer Res, infer WReq, unknown>
        ? (
            metadata: grpc.Metadata,
            options: Partial<grpc.CallOptions>,
            callback: grpc.requestCallback<Res>,
          ) => grpc.ClientWritableStream<WReq>
        : S extends MethodSpec<"bidiStream", unknown, infer Res, infer WReq, unknown>
          ? (metadata: grpc.Metadata, options: Partial<grpc.CallOptions>) => grpc.ClientDuplexStream<WReq, Res>
          : never;

export type TypedClient<M extends MethodSpecs> = grpc.Client & { readonly [K in keyof M]: ClientMethod<M[K]> };

export type TypedClientConstructor<M extends MethodSpecs> = new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: Partial<grpc.ChannelOptions>,
) => TypedClient<M>;

/** A service as the loader hands it out. */
export interface LoadedService<M extends MethodSpecs> {
  readonly spec: ServiceSpec<M>;
  readonly definition: TypedServiceDefinition<M>;
  readonly Client: TypedClientConstructor<M>;
}
