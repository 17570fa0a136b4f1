// Typed gRPC services. A service is described once, as data (`serviceSpec` with one `unary()`,
// `serverStream()`, ... per method, carrying the message types as phantom types); from it come the
// types of its loaded definition, of a server's handlers and of a client. The loader checks each
// loaded service against its spec (method names and streaming flags), which is what makes the
// single cast from proto-loader's untyped objects safe.

import type * as grpc from "@grpc/grpc-js";
import type { Writable } from "./wire_types.js";

export type MethodKind = "unary" | "serverStream" | "clientStream" | "bidiStream";

/** One RPC: its kind at run time, its decoded request and response types at compile time. */
export interface MethodSpec<K extends MethodKind, Req, Res> {
  readonly kind: K;
  /** Never set: carries the message types. */
  readonly messages?: { readonly request: Req; readonly response: Res };
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
export function bidiStream<Req, Res>(): MethodSpec<"bidiStream", Req, Res> {
  return { kind: "bidiStream" };
}

export type MethodSpecs = Readonly<Record<string, MethodSpec<MethodKind, unknown, unknown>>>;

export interface ServiceSpec<M extends MethodSpecs> {
  /** The full gRPC name, e.g. "etcdserverpb.KV". */
  readonly name: string;
  readonly methods: M;
}

export function serviceSpec<M extends MethodSpecs>(name: string, methods: M): ServiceSpec<M> {
  return { name, methods };
}

export type RequestOf<S> = S extends MethodSpec<MethodKind, infer Req, unknown> ? Req : never;
export type ResponseOf<S> = S extends MethodSpec<MethodKind, unknown, infer Res> ? Res : never;

/** proto-loader's method definition, with the two sides typed: write `Writable`s, read decoded. */
export interface TypedMethodDefinition<Req, Res> {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly requestSerialize: (value: Writable<Req>) => Buffer;
  readonly requestDeserialize: (bytes: Buffer) => Req;
  readonly responseSerialize: (value: Writable<Res>) => Buffer;
  readonly responseDeserialize: (bytes: Buffer) => Res;
  readonly originalName?: string;
}

/** A loaded service definition; assignable to grpc-js's `ServiceDefinition` for `addService`. */
export type TypedServiceDefinition<M extends MethodSpecs> = {
  readonly [K in keyof M]: TypedMethodDefinition<RequestOf<M[K]>, ResponseOf<M[K]>>;
};

/** A server-side handler: it reads decoded requests and writes `Writable` responses. */
export type Handler<S> =
  S extends MethodSpec<"unary", infer Req, infer Res>
    ? grpc.handleUnaryCall<Req, Writable<Res>>
    : S extends MethodSpec<"serverStream", infer Req, infer Res>
      ? grpc.handleServerStreamingCall<Req, Writable<Res>>
      : S extends MethodSpec<"clientStream", infer Req, infer Res>
        ? grpc.handleClientStreamingCall<Req, Writable<Res>>
        : S extends MethodSpec<"bidiStream", infer Req, infer Res>
          ? grpc.handleBidiStreamingCall<Req, Writable<Res>>
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
  S extends MethodSpec<"unary", infer Req, infer Res>
    ? (
        request: Writable<Req>,
        metadata: grpc.Metadata,
        options: Partial<grpc.CallOptions>,
        callback: grpc.requestCallback<Res>,
      ) => grpc.ClientUnaryCall
    : S extends MethodSpec<"serverStream", infer Req, infer Res>
      ? (
          request: Writable<Req>,
          metadata: grpc.Metadata,
          options: Partial<grpc.CallOptions>,
        ) => grpc.ClientReadableStream<Res>
      : S extends MethodSpec<"clientStream", infer Req, infer Res>
        ? (
            metadata: grpc.Metadata,
            options: Partial<grpc.CallOptions>,
            callback: grpc.requestCallback<Res>,
          ) => grpc.ClientWritableStream<Writable<Req>>
        : S extends MethodSpec<"bidiStream", infer Req, infer Res>
          ? (metadata: grpc.Metadata, options: Partial<grpc.CallOptions>) => grpc.ClientDuplexStream<Writable<Req>, Res>
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
