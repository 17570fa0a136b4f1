// What a normal Raft entry of a data shard carries: one command, and what applying it gave back.
// A command's entry index is its revision. Time enters only through header.nowMs (the proposing
// leader's clock), so that every replica decides TTL questions the same way.

import type {
  CompactResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  ExpireKeysResponse,
  LeaseGrantResponse,
  LeaseRevokeResponse,
  PurgeTombstonesResponse,
  PutRequest,
  PutResponse,
  TxnRequest,
  TxnResponse,
} from "./requests.js";
import type { MvccError } from "./errors.js";

export interface CommandHeader {
  /** The proposing leader's wall clock, in ms since the epoch. */
  readonly nowMs: number;
  /** Lets the proposer find its result; opaque to apply. A uint64. */
  readonly requestId: bigint;
}

export type CommandBody =
  | { readonly op: "put"; readonly put: PutRequest }
  | { readonly op: "deleteRange"; readonly deleteRange: DeleteRangeRequest }
  | { readonly op: "txn"; readonly txn: TxnRequest }
  | { readonly op: "compact"; readonly revision: number }
  /** The id is chosen by the proposer and is never 0 here. */
  | { readonly op: "leaseGrant"; readonly id: bigint; readonly ttlSeconds: number }
  /** By a client, or by the leader once the lease expired on its LeaseClock. */
  | { readonly op: "leaseRevoke"; readonly id: bigint }
  /** Leader housekeeping: deletes those keys whose TTL passed as of header.nowMs, re-checked at apply. */
  | { readonly op: "expireKeys"; readonly keys: readonly Uint8Array[] }
  /** Leader housekeeping once the tombstone retention window passed. */
  | { readonly op: "purgeTombstones"; readonly beforeRevision: number };

export type Command = { readonly header: CommandHeader } & CommandBody;

export type CommandOp = Command["op"];

export type CommandResponse =
  | PutResponse
  | DeleteRangeResponse
  | TxnResponse
  | CompactResponse
  | LeaseGrantResponse
  | LeaseRevokeResponse
  | ExpireKeysResponse
  | PurgeTombstonesResponse
  | Record<string, never>;

/** One per applied entry. Empty and confChange entries answer ok with {} and requestId 0n. */
export type ApplyResult = { readonly index: number; readonly requestId: bigint; readonly revision: number } & (
  | { readonly ok: true; readonly response: CommandResponse }
  | { readonly ok: false; readonly error: MvccError }
);
