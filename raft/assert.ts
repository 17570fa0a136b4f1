// Invariant checks. A failed assertion is a bug in the core or in its driver: it throws an
// AssertionError that nothing in shardkv catches, so the process stops instead of serving or voting
// on a state it does not understand (TigerBeetle's rule).

export class RaftInvariantError extends Error {
  override readonly name = "RaftInvariantError";
}

export function assert(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) {
    throw new RaftInvariantError(typeof message === "string" ? message : message());
  }
}

export function unreachable(value: never): never {
  throw new RaftInvariantError(`unreachable: ${JSON.stringify(value)}`);
}
