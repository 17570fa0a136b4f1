// Backpressure per client connection: one connection (one HTTP/2 session, as grpc-js names its peer)
// may have at most `requestsPerConnectionMax` unary calls in flight; past that the next is refused
// at once with RESOURCE_EXHAUSTED rather than queued, so that one client flooding a node cannot
// starve the others or grow the node's memory without bound. Streams (watch, keep-alive) are
// bounded by their own services, per stream.

import * as grpc from "@grpc/grpc-js";
import { RouterError, toGrpcStatus } from "./errors.js";

export const CONNECTION_DEFAULTS = { requestsPerConnectionMax: 1_024 } as const;

export class ConnectionLimiter {
  /** Invariant: every count is in [1, requestsPerConnectionMax]; a connection with none is absent. */
  private readonly inFlight = new Map<string, number>();

  constructor(readonly requestsPerConnectionMax: number = CONNECTION_DEFAULTS.requestsPerConnectionMax) {
    if (!Number.isSafeInteger(requestsPerConnectionMax) || requestsPerConnectionMax < 1) {
      throw new RangeError(`requestsPerConnectionMax must be a positive integer, got ${requestsPerConnectionMax}`);
    }
  }

  /** Takes a slot for `peer`, or throws RESOURCE_EXHAUSTED; give it back with `release`. */
  acquire(peer: string): void {
    const count = this.inFlight.get(peer) ?? 0;
    if (count >= this.requestsPerConnectionMax) {
      throw new RouterError(
        grpc.status.RESOURCE_EXHAUSTED,
        "etcdserver: too many requests",
        `this connection has ${count} requests in flight, the limit (--max-requests-per-connection); wait for answers, or spread the load over more connections`,
      );
    }
    this.inFlight.set(peer, count + 1);
  }

  release(peer: string): void {
    const count = this.inFlight.get(peer) ?? 0;
    if (count <= 1) this.inFlight.delete(peer);
    else this.inFlight.set(peer, count - 1);
  }

  /** Connections with calls in flight (for metrics and tests). */
  get connections(): number {
    return this.inFlight.size;
  }
}

/**
 * The service's handlers with every unary one bounded by `limiter`; the definition says which
 * methods are unary. Other handlers are returned as they are.
 */
export function limitUnaryCalls(definition: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation, limiter: ConnectionLimiter): grpc.UntypedServiceImplementation {
  const limited: grpc.UntypedServiceImplementation = {};
  for (const [name, handler] of Object.entries(handlers)) {
    const method = definition[name];
    const unary = method !== undefined && !method.requestStream && !method.responseStream;
    limited[name] = unary ? limitOne(handler as grpc.handleUnaryCall<unknown, unknown>, limiter) : handler;
  }
  return limited;
}

function limitOne(handler: grpc.handleUnaryCall<unknown, unknown>, limiter: ConnectionLimiter): grpc.handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    const peer = call.getPeer();
    try {
      limiter.acquire(peer);
    } catch (error) {
      callback(toGrpcStatus(error));
      return;
    }
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      limiter.release(peer);
    };
    // A cancelled call never reaches its callback's answer to the client, but its slot must come back.
    call.once("cancelled", release);
    handler(call, (error, value, trailer, flags) => {
      release();
      callback(error, value, trailer, flags);
    });
  };
}
