// Where a lock's waiters and an election's candidates keep their keys: `<name>/<lease id in hex>`, as
// etcd's client/v3/concurrency does, all under one prefix whose keys must live in one shard, because
// who comes first is decided by create revisions and revisions compare only within a shard
// (ARCHITECTURE.md, "Revisions in a sharded etcd"). A name without a hash tag is put in braces, so the
// prefix is `{name}/`; a name that has one (`{orders}/lock`) is used as it is.

import { RouterError } from "./errors.js";
import { hashTag } from "./key_hash.js";

export interface SyncPrefix {
  /** `{name}/` or `name/`: every key of the lock or election starts with it. */
  readonly prefix: Uint8Array;
  /** The prefix scan's end: the prefix with its last byte ("/") raised by one. */
  readonly end: Uint8Array;
}

/** The prefix of lock or election `name` (`what` names which, for messages). */
export function syncPrefix(name: Uint8Array, what: "lock" | "election"): SyncPrefix {
  if (name.length === 0) throw RouterError.invalidArgument(`Cannot use an ${what === "lock" ? "unnamed lock" : "unnamed election"}: set its name`);
  const tagged = hasTag(name) ? name : Buffer.concat([Buffer.from("{"), name, Buffer.from("}")]);
  const prefix = Buffer.concat([tagged, Buffer.from("/")]);
  // A name such as "}x" gives "{}x}": an empty tag is no tag, and the keys would scatter over shards.
  if (!hasTag(prefix)) {
    throw RouterError.invalidArgument(
      `Cannot use ${what} name ${JSON.stringify(Buffer.from(name).toString())}: its keys would have no hash tag and could spread over shards; ` +
        `name it with a tag, like "{${what}s}/name", or without a leading "}"`,
    );
  }
  const end = Buffer.from(prefix);
  end[end.length - 1]! += 1;
  return { prefix, end };
}

/** A candidate's or waiter's key: the prefix, then the lease id in lowercase hex (etcd's `%x`). */
export function leaseKey(prefix: Uint8Array, lease: bigint): Uint8Array {
  return Buffer.concat([prefix, Buffer.from(lease.toString(16))]);
}

/** Whether the key's shard is decided by a hash tag rather than by the whole key. */
function hasTag(key: Uint8Array): boolean {
  return hashTag(key).length !== key.length;
}
