// etcd's Lock service (v3lockpb.Lock), built as etcd builds it (server/etcdserver/api/v3lock on
// client/v3/concurrency/mutex.go): Lock puts `<name>/<lease hex>` on the caller's lease with a txn
// (create it unless this lease has it already), then waits until every key of the name's prefix created
// before it is deleted. The key's create revision orders the waiters and is the fencing token. Unlock
// deletes the key. The name gets a hash tag unless it has one (sync_keys.ts), so that all of one lock's
// keys live in one shard and their revisions compare.
//
// A lock dies with its lease: when the lease expires while Lock waits, the call fails NOT_FOUND, and
// a client that gives up waiting (cancels the call) leaves no key behind to block the others.

import type { lockSpec, ServiceHandlers, Writable } from "../proto/index.js";
import type * as t from "../proto/index.js";
import type * as mvcc from "../shard/mvcc/index.js";
import { headerToWire, int64ToBigint } from "./etcd_convert.js";
import { RouterError, requireKey } from "./errors.js";
import { unary } from "./grpc_handlers.js";
import { ensureLeasesAt } from "./lease_home.js";
import { LongCalls } from "./long_calls.js";
import type { ShardAccess } from "./shard_access.js";
import { leaseKey, syncPrefix } from "./sync_keys.js";
import { waitTurn, type Turn } from "./wait_turn.js";
import type { WatchBudget } from "./watch_limits.js";

type LockHandlers = Required<ServiceHandlers<typeof lockSpec.methods>>;

export class LockService {
  private readonly calls = new LongCalls();

  constructor(
    private readonly access: ShardAccess,
    /** Shard feeds, shared with the node's watches: each waiting Lock holds one. */
    private readonly budget: WatchBudget,
  ) {}

  /** The grpc-js handlers, for `server.addService(etcd.Lock.definition, service.handlers())`. */
  handlers(): LockHandlers {
    return {
      Lock: this.calls.unary((req: t.LockRequest, signal) => this.lock(req, signal)),
      Unlock: unary((req: t.UnlockRequest) => this.unlock(req)),
    };
  }

  /** Ends the Lock calls still waiting with UNAVAILABLE (the node stops). */
  close(): void {
    this.calls.close();
  }

  async lock(req: t.LockRequest, signal: AbortSignal): Promise<Writable<t.LockResponse>> {
    const lease = int64ToBigint(req.lease, "lock lease");
    if (lease === 0n) {
      throw RouterError.invalidArgument(
        "Cannot lock without a lease: grant one (LeaseGrant) and pass its ID, so the lock is released when its holder dies",
      );
    }
    const sync = syncPrefix(req.name, "lock");
    const key = leaseKey(sync.prefix, lease);
    const shard = this.access.map().shardFor(key).id;
    const turn = await this.acquire(shard, sync, key, lease);
    let revision = turn.revision;
    try {
      if (!turn.first) revision = await waitTurn({ access: this.access, budget: this.budget, signal }, turn);
    } catch (error) {
      // As etcd's mutex: a wait that failed (the client gave up, the node stops) takes its key back.
      // A lease that expired took it already.
      await this.access.propose(shard, { op: "deleteRange", deleteRange: { key } }).catch(() => undefined);
      throw error;
    }
    return { header: this.header(shard, revision), key };
  }

  async unlock(req: t.UnlockRequest): Promise<Writable<t.UnlockResponse>> {
    requireKey(req.key);
    const shard = this.access.map().shardFor(req.key).id;
    const result = await this.access.propose(shard, { op: "deleteRange", deleteRange: { key: Uint8Array.from(req.key) } });
    if (!result.ok) throw result.error;
    return { header: this.header(shard, result.revision) };
  }

  /**
   * etcd's txn: create the key on the lease unless it exists (this lease asked before), and read the
   * oldest key of the prefix, so that an uncontended lock takes one round.
   */
  private async acquire(shard: number, sync: Turn["sync"], key: Uint8Array, lease: bigint): Promise<Turn & { revision: number; first: boolean }> {
    const map = this.access.map();
    await ensureLeasesAt(this.access, map.shardFor(key), [{ key, lease }]);
    const oldest: mvcc.RequestOp = { range: { key: sync.prefix, rangeEnd: sync.end, sortTarget: "create", sortOrder: "ascend", limit: 1 } };
    const txn: mvcc.TxnRequest = {
      compare: [{ key, target: "create", result: "equal", value: 0 }],
      success: [{ put: { key, value: new Uint8Array(0), lease } }, oldest],
      failure: [{ range: { key } }, oldest],
    };
    const result = await this.access.propose(shard, { op: "txn", txn });
    // An unknown or expired lease fails the put in the state machine with etcd's NOT_FOUND string.
    if (!result.ok) throw result.error;
    // The state machine's contract (shard/mvcc/apply.ts): a txn answers with a TxnResponse, one response per op.
    const response = result.response as mvcc.TxnResponse;
    const own = response.succeeded ? result.revision : rangeOf(response.responses[0])?.kvs[0]?.createRevision;
    if (own === undefined) throw new Error(`the lock txn on ${key.length}-byte key found it neither absent nor present`);
    const first = rangeOf(response.responses[1])?.kvs[0]?.createRevision === own;
    return { shard, sync, key, lease, createRevision: own, revision: result.revision, first };
  }

  private header(shard: number, revision: number): Writable<t.ResponseHeader> {
    return headerToWire({ clusterId: this.access.clusterId, memberId: this.access.memberId, revision, raftTerm: this.access.raftTerm(shard) });
  }
}

function rangeOf(op: mvcc.ResponseOp | undefined): mvcc.RangeResponse | undefined {
  return op !== undefined && "range" in op ? op.range : undefined;
}
