// The limits a node puts on what clients send, in one place, with the flags that set them. Key,
// value and txn sizes are checked where a command is proposed (shard/mvcc/validate.ts) and answered
// INVALID_ARGUMENT with the limit's name; a request over requestBytesMax is refused by gRPC itself
// (RESOURCE_EXHAUSTED, "Received message larger than max"), before it is decoded.

import { MVCC_DEFAULTS } from "../shard/mvcc/index.js";
import { ClusterConfigError } from "./cluster_config.js";
import { CONNECTION_DEFAULTS } from "./connection_limit.js";

export interface ClientLimits {
  /** --max-key-bytes */
  readonly keyBytesMax: number;
  /** --max-value-bytes */
  readonly valueBytesMax: number;
  /** --max-txn-ops: compares, and operations of each branch, per txn level (etcd's --max-txn-ops). */
  readonly txnOpsMax: number;
  /** --max-request-bytes: one gRPC request message (etcd's --max-request-bytes is 1.5 MiB). */
  readonly requestBytesMax: number;
  /** --max-requests-per-connection: unary calls in flight on one client connection. */
  readonly requestsPerConnectionMax: number;
}

export const CLIENT_LIMIT_DEFAULTS: ClientLimits = Object.freeze({
  keyBytesMax: MVCC_DEFAULTS.keyBytesMax,
  valueBytesMax: MVCC_DEFAULTS.valueBytesMax,
  txnOpsMax: MVCC_DEFAULTS.txnOpsMax,
  requestBytesMax: 2 * 1024 * 1024,
  requestsPerConnectionMax: CONNECTION_DEFAULTS.requestsPerConnectionMax,
});

/** The defaults with `partial` over them, each checked; a value must fit under the request limit. */
export function resolveClientLimits(partial: Partial<ClientLimits> = {}): ClientLimits {
  const limits: ClientLimits = { ...CLIENT_LIMIT_DEFAULTS, ...partial };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new ClusterConfigError(`the client limit ${name} must be a positive integer, got ${String(value)}`);
  }
  if (limits.keyBytesMax + limits.valueBytesMax > limits.requestBytesMax) {
    throw new ClusterConfigError(
      `--max-key-bytes ${limits.keyBytesMax} plus --max-value-bytes ${limits.valueBytesMax} exceed --max-request-bytes ${limits.requestBytesMax}: the largest put could never arrive; raise --max-request-bytes`,
    );
  }
  return limits;
}
