// The one error type of the state machine. Its messages are etcd's exact strings wherever etcd has
// one, because clients (etcd3, clientv3, Kubernetes) match on them; our own messages name the action
// and quote the value. Anything else thrown out of apply is a bug or an I/O failure, never a result.

export type MvccErrorCode =
  | "INVALID_ARGUMENT"
  | "NOT_FOUND"
  | "FAILED_PRECONDITION"
  | "OUT_OF_RANGE"
  | "RESOURCE_EXHAUSTED";

export class MvccError extends Error {
  override readonly name = "MvccError";
  constructor(
    readonly code: MvccErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** etcd's strings (api/v3rpc/rpctypes/error.go, server/mvcc, server/lease), reproduced exactly. */
export const ETCD_ERRORS = {
  emptyKey: "etcdserver: key is not provided",
  keyNotFound: "etcdserver: key not found",
  valueProvided: "etcdserver: value is provided",
  leaseProvided: "etcdserver: lease is provided",
  tooManyOps: "etcdserver: too many operations in txn request",
  duplicateKey: "etcdserver: duplicate key given in txn request",
  leaseNotFound: "etcdserver: requested lease not found",
  leaseExists: "etcdserver: lease already exists",
  leaseTtlTooLarge: "etcdserver: too large lease TTL",
  compacted: "etcdserver: mvcc: required revision has been compacted",
  futureRevision: "etcdserver: mvcc: required revision is a future revision",
  requestTooLarge: "etcdserver: request is too large",
} as const;

export function invalidArgument(message: string): MvccError {
  return new MvccError("INVALID_ARGUMENT", message);
}

export function compactedError(): MvccError {
  return new MvccError("OUT_OF_RANGE", ETCD_ERRORS.compacted);
}

export function futureRevisionError(): MvccError {
  return new MvccError("OUT_OF_RANGE", ETCD_ERRORS.futureRevision);
}

export function leaseNotFoundError(): MvccError {
  return new MvccError("NOT_FOUND", ETCD_ERRORS.leaseNotFound);
}
