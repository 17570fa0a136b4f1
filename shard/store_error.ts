// Why the store refused or could not finish a request, as a gRPC status a client can act on. The
// message is etcd's exact string where etcd has one (clients compare it); the hint says what to do
// and travels beside it.

export type StoreErrorCode = "UNAVAILABLE" | "RESOURCE_EXHAUSTED" | "INVALID_ARGUMENT" | "NOT_FOUND" | "FAILED_PRECONDITION" | "INTERNAL";

export class StoreError extends Error {
  override readonly name = "StoreError";
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }

  static unavailable(message: string, hint: string): StoreError {
    return new StoreError("UNAVAILABLE", message, hint);
  }

  static overloaded(what: string, limit: number, setting: string): StoreError {
    return new StoreError("RESOURCE_EXHAUSTED", "etcdserver: too many requests", `${what} is at its limit of ${limit} (${setting}); retry with backoff`);
  }
}
