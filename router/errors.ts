// Every failure a client-facing handler can meet, turned into one gRPC status in one place. The
// status's `details` is etcd's exact string wherever etcd has one, because clients (clientv3, etcd3,
// Kubernetes) match on it; a hint that says what to do travels beside it in the trailing metadata
// (`shardkv-hint`), never inside `details`. Anything unknown becomes INTERNAL with a message a
// person can act on.

import * as grpc from "@grpc/grpc-js";
import { ETCD_ERRORS, MvccError, type MvccErrorCode } from "../shard/mvcc/index.js";
import { StoreError, type StoreErrorCode } from "../shard/store_error.js";
import { ShardMapError } from "./shard_map.js";

/** The trailing metadata key that carries a hint; `details` stays etcd's string. */
export const HINT_METADATA_KEY = "shardkv-hint";

/** A refusal decided by the router itself (validation, routing), with the status it must carry. */
export class RouterError extends Error {
  override readonly name = "RouterError";
  constructor(
    readonly code: grpc.status,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }

  static invalidArgument(message: string, hint?: string): RouterError {
    return new RouterError(grpc.status.INVALID_ARGUMENT, message, hint);
  }

  static failedPrecondition(message: string, hint?: string): RouterError {
    return new RouterError(grpc.status.FAILED_PRECONDITION, message, hint);
  }

  static unavailable(message: string, hint?: string): RouterError {
    return new RouterError(grpc.status.UNAVAILABLE, message, hint);
  }
}

/** etcd refuses an empty key before routing or anything else, with its own string. */
export function requireKey(key: Uint8Array): void {
  if (key.length === 0) throw RouterError.invalidArgument(ETCD_ERRORS.emptyKey);
}

/** The state machine's codes have gRPC names already: the map is the identity, written out so it stays exhaustive. */
const MVCC_STATUS: Readonly<Record<MvccErrorCode, grpc.status>> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
  FAILED_PRECONDITION: grpc.status.FAILED_PRECONDITION,
  // Compacted and future revisions: etcd answers OutOfRange for both.
  OUT_OF_RANGE: grpc.status.OUT_OF_RANGE,
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
};

const STORE_STATUS: Readonly<Record<StoreErrorCode, grpc.status>> = {
  // No leader, leader changed, timeouts, a node shutting down: clients retry these elsewhere.
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  // A bounded queue is full ("etcdserver: too many requests"): answered at once, never a slow death.
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
  FAILED_PRECONDITION: grpc.status.FAILED_PRECONDITION,
  INTERNAL: grpc.status.INTERNAL,
};

/** What a unary handler passes to its callback when it fails. */
export interface GrpcFailure {
  readonly code: grpc.status;
  readonly details: string;
  readonly metadata: grpc.Metadata;
}

export function toGrpcStatus(error: unknown): GrpcFailure {
  if (error instanceof RouterError) return failure(error.code, error.message, error.hint);
  if (error instanceof MvccError) return failure(MVCC_STATUS[error.code], error.message, undefined);
  if (error instanceof StoreError) return failure(STORE_STATUS[error.code], error.message, error.hint);
  if (error instanceof ShardMapError) {
    return failure(grpc.status.INTERNAL, `shardkv: the shard map is invalid: ${error.message}`, "the meta group holds a broken map; report it with the map's epoch");
  }
  const message = error instanceof Error ? error.message : String(error);
  return failure(
    grpc.status.INTERNAL,
    `shardkv: internal error: ${message}`,
    "this is a bug in shardkv, not in the request; report it with the request and the server's log",
  );
}

function failure(code: grpc.status, details: string, hint: string | undefined): GrpcFailure {
  const metadata = new grpc.Metadata();
  // Header values must be printable ASCII; a hint quoting a key may hold other bytes.
  if (hint !== undefined && hint !== "") metadata.set(HINT_METADATA_KEY, hint.replace(/[^\x20-\x7e]/g, "?"));
  return { code, details, metadata };
}

const QUOTED_KEY_CHARS_MAX = 64;

/** A key for a message: as a JSON string when it is text, truncated; as hex otherwise. */
export function quoteKey(key: Uint8Array): string {
  const text = Buffer.from(key).toString("utf8");
  const printable = !text.includes("\uFFFD") && !/[\x00-\x1f\x7f]/.test(text);
  const shown = printable ? text : `0x${Buffer.from(key).toString("hex")}`;
  const cut = shown.length > QUOTED_KEY_CHARS_MAX ? `${shown.slice(0, QUOTED_KEY_CHARS_MAX)}...` : shown;
  return printable ? JSON.stringify(cut) : cut;
}
