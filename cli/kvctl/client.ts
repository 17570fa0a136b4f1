// The connection to the cluster: one gRPC channel per endpoint, opened on first use, and failover
// between them. Any node answers for every shard, so the first endpoint that connects will do; a
// request moves on to the next endpoint only when that cannot change what happens: a read on any
// UNAVAILABLE, a write only when it never left this process (the endpoint did not connect), because
// a write that reached a node and then failed may still apply, and sending it again could apply it twice.

import * as grpc from "@grpc/grpc-js";
import {
  type EtcdApi,
  loadEtcdApi,
  loadShardkvApi,
  type LoadedService,
  type MethodSpecs,
  type ShardkvApi,
  type TypedClient,
} from "../../proto/index.js";
import { ExitCode } from "./exit_codes.js";
import { KvctlError, isServiceError, toKvctlError } from "./errors.js";

export interface ClientOptions {
  readonly endpoints: readonly string[];
  /** How long to wait for one endpoint to connect before trying the next. */
  readonly dialTimeoutMs: number;
  /** The deadline of each unary call that is not meant to wait (lock and campaign wait). */
  readonly commandTimeoutMs: number;
}

/** Whether a request may be sent again elsewhere after a failure. */
export type Safety = "read" | "write";

/** Both APIs' loaded services, parsed from the .proto files only when a command first needs them. */
class Apis {
  private etcdApi: EtcdApi | undefined;
  private shardkvApi: ShardkvApi | undefined;
  etcd(): EtcdApi {
    return (this.etcdApi ??= loadEtcdApi());
  }
  shardkv(): ShardkvApi {
    return (this.shardkvApi ??= loadShardkvApi());
  }
}

/** One endpoint: its channel, shared by a client per service. */
export class Connection {
  private readonly channel: grpc.Channel;
  private readonly clients = new Map<string, grpc.Client>();

  constructor(
    readonly address: string,
    readonly apis: Apis,
  ) {
    this.channel = new grpc.Channel(address, grpc.credentials.createInsecure(), {});
  }

  /** A typed client of `service` on this endpoint's channel. */
  client<M extends MethodSpecs>(service: LoadedService<M>): TypedClient<M> {
    let client = this.clients.get(service.spec.name);
    if (client === undefined) {
      client = new service.Client(this.address, grpc.credentials.createInsecure(), { channelOverride: this.channel });
      this.clients.set(service.spec.name, client);
    }
    // Safe: the map holds, under each service's name, the client built from that service.
    return client as TypedClient<M>;
  }

  etcd(): EtcdApi {
    return this.apis.etcd();
  }

  shardkv(): ShardkvApi {
    return this.apis.shardkv();
  }

  /**
   * Resolves once the channel is connected. Fails at once when the connection is refused (the
   * channel reports TRANSIENT_FAILURE), and after `timeoutMs` when the endpoint does not answer.
   */
  ready(timeoutMs: number): Promise<void> {
    const deadline = new Date(Date.now() + timeoutMs);
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const state = this.channel.getConnectivityState(true);
        if (state === grpc.connectivityState.READY) return resolve();
        if (state === grpc.connectivityState.TRANSIENT_FAILURE || state === grpc.connectivityState.SHUTDOWN) {
          return reject(new Error("cannot connect (refused or reset)"));
        }
        this.channel.watchConnectivityState(state, deadline, (error) => (error === undefined ? check() : reject(new Error(`cannot connect within ${timeoutMs} ms`))));
      };
      check();
    });
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.channel.close();
  }
}

export class ClusterClient {
  private readonly connections: Connection[];
  /** The endpoint that answered last: later calls of the same command start there. */
  private preferred = 0;

  constructor(readonly options: ClientOptions) {
    if (options.endpoints.length === 0) throw KvctlError.usage("No endpoint given", "pass --endpoints host:port[,host:port...] or set SHARDKV_ENDPOINTS");
    const apis = new Apis();
    this.connections = options.endpoints.map((address) => new Connection(address, apis));
  }

  /** Call options with the command deadline. */
  deadline(): Partial<grpc.CallOptions> {
    return { deadline: new Date(Date.now() + this.options.commandTimeoutMs) };
  }

  /**
   * Runs a unary request on the first endpoint that connects, and again on the next ones while the
   * failure allows (see the file's comment). `what` names the action for error messages.
   */
  async unary<T>(what: string, safety: Safety, run: (connection: Connection) => Promise<T>): Promise<T> {
    const failures: string[] = [];
    let reachedNode = false;
    for (const connection of this.rotation()) {
      try {
        await connection.ready(this.options.dialTimeoutMs);
      } catch (error) {
        failures.push(`${connection.address}: ${(error as Error).message}`);
        continue;
      }
      try {
        const result = await run(connection);
        this.preferred = this.connections.indexOf(connection);
        return result;
      } catch (error) {
        if (!isServiceError(error) || !retryable(error, safety)) throw unknownOutcome(toKvctlError(error, what), error, safety);
        reachedNode = true;
        failures.push(`${connection.address}: ${error.details} (UNAVAILABLE)`);
      }
    }
    throw allFailed(what, failures, reachedNode);
  }

  /** The first endpoint that connects, for a stream (watch, keep-alive, observe) or a long call. */
  async connect(what: string): Promise<Connection> {
    return this.unary(what, "read", async (connection) => connection);
  }

  /** Every endpoint, in the order given (endpoint status and health ask each one). */
  all(): readonly Connection[] {
    return this.connections;
  }

  close(): void {
    for (const connection of this.connections) connection.close();
  }

  private rotation(): Connection[] {
    return [...this.connections.slice(this.preferred), ...this.connections.slice(0, this.preferred)];
  }
}

/**
 * A read moves on for any UNAVAILABLE (no leader here, node stopping, connection lost); a write only
 * when grpc-js says it found no connection to send on, so the request never reached a node.
 */
function retryable(error: grpc.ServiceError, safety: Safety): boolean {
  if (error.code !== grpc.status.UNAVAILABLE) return false;
  return safety === "read" || error.details.startsWith("No connection established");
}

/** A write that failed UNAVAILABLE after it was sent may or may not have applied: say so. */
function unknownOutcome(error: KvctlError, cause: unknown, safety: Safety): KvctlError {
  if (safety !== "write" || !isServiceError(cause) || cause.code !== grpc.status.UNAVAILABLE) return error;
  return new KvctlError(error.exitCode, error.message, `the write may or may not have applied: read it back before you retry${error.hint === undefined ? "" : `; the server says: ${error.hint}`}`);
}

/** Every endpoint failed: none connected, or (`reachedNode`) some answered but could not serve it now. */
function allFailed(what: string, failures: readonly string[], reachedNode: boolean): KvctlError {
  return new KvctlError(
    ExitCode.unavailable,
    `Cannot ${what}: ${reachedNode ? "no endpoint could serve it" : "no endpoint answered"} (${failures.join("; ")})`,
    reachedNode
      ? "the cluster may be electing a leader or missing a quorum: retry in a moment, and check `kvctl endpoint health`"
      : "check that the nodes are running (`npm start`) and that --endpoints or SHARDKV_ENDPOINTS lists their client addresses",
  );
}

/** A unary call as a promise; an abort (Ctrl-C) cancels it, and it then rejects with CANCELLED. */
export function call<Res>(start: (callback: grpc.requestCallback<Res>) => grpc.ClientUnaryCall, signal?: AbortSignal): Promise<Res> {
  return new Promise((resolve, reject) => {
    const pending = start((error, response) => {
      signal?.removeEventListener("abort", cancel);
      if (error !== null) reject(error);
      else if (response === undefined) reject(new Error("the server sent no response"));
      else resolve(response);
    });
    const cancel = (): void => pending.cancel();
    signal?.addEventListener("abort", cancel, { once: true });
  });
}

/** New metadata for a call: grpc-js wants one per call. */
export function metadata(): grpc.Metadata {
  return new grpc.Metadata();
}
