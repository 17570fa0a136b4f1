// etcd's Election service (v3electionpb.Election) with the semantics of etcd's client/v3/concurrency
// election.go, on the server (as server/etcdserver/api/v3election does): a candidate is the key
// `<name>/<lease hex>` on its lease, the leader is the candidate whose key was created first, and its
// value is the election's proclamation. Campaign waits until every older candidate is gone; Proclaim
// and Resign act only while the caller's key still has the create revision it campaigned with;
// Observe streams the leader, then each of its proclamations, and the next leader once it is gone.
// The name gets a hash tag unless it has one (sync_keys.ts): one election's candidates share a shard.

import * as grpc from "@grpc/grpc-js";
import type { electionSpec, ServiceHandlers, Writable } from "../proto/index.js";
import type * as t from "../proto/index.js";
import type * as mvcc from "../shard/mvcc/index.js";
import { headerToWire, int64ToBigint, int64ToNumber, kvToWire } from "./etcd_convert.js";
import { RouterError, requireKey } from "./errors.js";
import { unary } from "./grpc_handlers.js";
import { ensureLeasesAt } from "./lease_home.js";
import { LongCalls } from "./long_calls.js";
import type { ShardAccess } from "./shard_access.js";
import { type FeedContext, followFeed } from "./shard_feed.js";
import { leaseKey, type SyncPrefix, syncPrefix } from "./sync_keys.js";
import { waitTurn } from "./wait_turn.js";
import type { WatchBudget } from "./watch_limits.js";

type ElectionHandlers = Required<ServiceHandlers<typeof electionSpec.methods>>;
type ObserveCall = grpc.ServerWritableStream<t.LeaderRequest, Writable<t.LeaderResponse>>;

/** etcd's strings: v3election's ErrMissingLeaderKey, concurrency's ErrElectionNotLeader and ErrElectionNoLeader. */
export const ELECTION_ERRORS = {
  missingLeader: '"leader" field must be provided',
  notLeader: "election: not leader",
  noLeader: "election: no leader",
} as const;

/** A candidate as a LeaderKey names it, checked. */
interface Candidate {
  readonly name: Uint8Array;
  readonly key: Uint8Array;
  readonly rev: number;
  readonly lease: bigint;
  readonly shard: number;
}

export class ElectionService {
  private readonly calls = new LongCalls();

  constructor(
    private readonly access: ShardAccess,
    /** Shard feeds, shared with the node's watches: each waiting Campaign and each Observe holds one. */
    private readonly budget: WatchBudget,
  ) {}

  /** The grpc-js handlers, for `server.addService(etcd.Election.definition, service.handlers())`. */
  handlers(): ElectionHandlers {
    return {
      Campaign: this.calls.unary((req: t.CampaignRequest, signal) => this.campaign(req, signal)),
      Proclaim: unary((req: t.ProclaimRequest) => this.proclaim(req)),
      Leader: unary((req: t.LeaderRequest) => this.leader(req)),
      Observe: this.calls.serverStream((call: ObserveCall, signal) => this.observe(call, signal)),
      Resign: unary((req: t.ResignRequest) => this.resign(req)),
    };
  }

  /** Ends waiting campaigns and open observations with UNAVAILABLE (the node stops). */
  close(): void {
    this.calls.close();
  }

  async campaign(req: t.CampaignRequest, signal: AbortSignal): Promise<Writable<t.CampaignResponse>> {
    const lease = int64ToBigint(req.lease, "campaign lease");
    if (lease === 0n) {
      throw RouterError.invalidArgument("Cannot campaign without a lease: grant one (LeaseGrant) and pass its ID, so leadership ends when the leader dies");
    }
    const sync = syncPrefix(req.name, "election");
    const key = leaseKey(sync.prefix, lease);
    const shard = this.access.map().shardFor(key).id;
    await ensureLeasesAt(this.access, this.access.map().shardFor(key), [{ key, lease }]);
    const txn: mvcc.TxnRequest = {
      compare: [{ key, target: "create", result: "equal", value: 0 }],
      success: [{ put: { key, value: req.value, lease } }],
      failure: [{ range: { key } }],
    };
    const result = await this.access.propose(shard, { op: "txn", txn });
    if (!result.ok) throw result.error;
    // The state machine's contract (shard/mvcc/apply.ts): a txn answers with one response per op.
    const response = result.response as mvcc.TxnResponse;
    const existing = response.succeeded ? undefined : rangeOf(response.responses[0])?.kvs[0];
    const candidate: Candidate = { name: req.name, key, lease, shard, rev: existing?.createRevision ?? result.revision };
    // Campaigning again with another value proclaims it, as etcd's Campaign does.
    if (existing !== undefined && Buffer.compare(existing.value, req.value) !== 0) await this.proclaimAs(candidate, req.value);
    try {
      await waitTurn({ access: this.access, budget: this.budget, signal }, { shard, sync, key, lease, createRevision: candidate.rev });
    } catch (error) {
      // A client that gave up (or a node that stops) withdraws the candidacy, as etcd's Campaign does.
      if (signal.aborted) await this.resignAs(candidate).catch(() => undefined);
      throw error;
    }
    return { header: this.header(shard, result.revision), leader: leaderKeyToWire(candidate) };
  }

  async proclaim(req: t.ProclaimRequest): Promise<Writable<t.ProclaimResponse>> {
    const candidate = this.candidateOf(req.leader);
    const revision = await this.proclaimAs(candidate, req.value);
    return { header: this.header(candidate.shard, revision) };
  }

  /** The leader's key-value: the candidate created first. */
  async leader(req: t.LeaderRequest): Promise<Writable<t.LeaderResponse>> {
    const sync = syncPrefix(req.name, "election");
    const shard = this.access.map().shardFor(sync.prefix).id;
    const { kv, revision } = await this.currentLeader(shard, sync);
    if (kv === undefined) throw new RouterError(grpc.status.NOT_FOUND, ELECTION_ERRORS.noLeader, "no candidate holds this election; Observe waits for one");
    return { header: this.header(shard, revision), kv: kvToWire(kv) };
  }

  async resign(req: t.ResignRequest): Promise<Writable<t.ResignResponse>> {
    const candidate = this.candidateOf(req.leader);
    return { header: this.header(candidate.shard, await this.resignAs(candidate)) };
  }

  /**
   * The leader now, then its every proclamation, then the next leader once its key is deleted (after
   * waiting for a candidate when there is none). Leaders come in order; proclamations of a leader that
   * changed meanwhile may be skipped, as etcd's Observe skips them.
   */
  private async observe(call: ObserveCall, signal: AbortSignal): Promise<void> {
    const sync = syncPrefix(call.request.name, "election");
    const shard = this.access.map().shardFor(sync.prefix).id;
    const ctx: FeedContext = { access: this.access, budget: this.budget, signal };
    const send = async (kv: mvcc.KeyValue, revision: number): Promise<void> => {
      if (!call.write({ header: this.header(shard, revision), kv: kvToWire(kv) })) await drained(call, signal);
    };
    for (;;) {
      const now = await this.currentLeader(shard, sync);
      let leader = now.kv;
      let revision = now.revision;
      if (leader === undefined) {
        // No candidate: the first put under the prefix is the next leader.
        const first: { kv?: mvcc.KeyValue } = {};
        const outcome = await followFeed(ctx, shard, { key: sync.prefix, rangeEnd: sync.end }, revision + 1, (events) => {
          const put = events.find((event) => event.type === "put");
          if (put !== undefined) first.kv = put.kv;
          return put !== undefined;
        });
        if (outcome === "compacted" || first.kv === undefined) continue;
        leader = first.kv;
        revision = leader.modRevision;
      }
      await send(leader, revision);
      const key = leader.key;
      // Proclamations until the leader's key is deleted; a compacted start looks at the state again.
      await followFeed(ctx, shard, { key, rangeEnd: undefined }, revision + 1, async (events, through) => {
        for (const event of events) {
          if (event.type === "delete") return true;
          await send(event.kv, Math.max(event.kv.modRevision, through));
        }
        return false;
      });
    }
  }

  private async currentLeader(shard: number, sync: SyncPrefix): Promise<{ kv: mvcc.KeyValue | undefined; revision: number }> {
    const range = await this.access.range(shard, { key: sync.prefix, rangeEnd: sync.end, sortTarget: "create", sortOrder: "ascend", limit: 1 }, "linearizable");
    return { kv: range.kvs[0], revision: range.revision };
  }

  /** Puts `value` while the candidate's key still has its create revision; otherwise it is not the leader any more. */
  private async proclaimAs(candidate: Candidate, value: Uint8Array): Promise<number> {
    await ensureLeasesAt(this.access, this.access.map().shardFor(candidate.key), [{ key: candidate.key, lease: candidate.lease }]);
    const response = await this.ifStillCandidate(candidate, { put: { key: candidate.key, value, lease: candidate.lease } });
    if (!response.succeeded) {
      throw RouterError.failedPrecondition(ELECTION_ERRORS.notLeader, "the candidate's key is gone (resigned, or its lease expired); campaign again");
    }
    return response.revision;
  }

  /** Deletes the candidate's key if it is still the one that campaigned; resigning twice is no error. */
  private async resignAs(candidate: Candidate): Promise<number> {
    return (await this.ifStillCandidate(candidate, { deleteRange: { key: candidate.key } })).revision;
  }

  private async ifStillCandidate(candidate: Candidate, op: mvcc.RequestOp): Promise<{ succeeded: boolean; revision: number }> {
    const txn: mvcc.TxnRequest = { compare: [{ key: candidate.key, target: "create", result: "equal", value: candidate.rev }], success: [op], failure: [] };
    const result = await this.access.propose(candidate.shard, { op: "txn", txn });
    if (!result.ok) throw result.error;
    return { succeeded: (result.response as mvcc.TxnResponse).succeeded, revision: result.revision };
  }

  private candidateOf(leader: t.LeaderKey | null): Candidate {
    if (leader === null) throw RouterError.invalidArgument(ELECTION_ERRORS.missingLeader);
    requireKey(leader.key);
    const key = Uint8Array.from(leader.key);
    return {
      name: Uint8Array.from(leader.name),
      key,
      rev: int64ToNumber(leader.rev, "leader rev"),
      lease: int64ToBigint(leader.lease, "leader lease"),
      shard: this.access.map().shardFor(key).id,
    };
  }

  private header(shard: number, revision: number): Writable<t.ResponseHeader> {
    return headerToWire({ clusterId: this.access.clusterId, memberId: this.access.memberId, revision, raftTerm: this.access.raftTerm(shard) });
  }
}

function leaderKeyToWire(candidate: Candidate): Writable<t.LeaderKey> {
  return { name: candidate.name, key: candidate.key, rev: String(candidate.rev), lease: String(candidate.lease) };
}

function rangeOf(op: mvcc.ResponseOp | undefined): mvcc.RangeResponse | undefined {
  return op !== undefined && "range" in op ? op.range : undefined;
}

/** Resolves once the client took what was written; rejects when the call is aborted first. */
function drained(call: ObserveCall, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const abort = (): void => {
      call.off("drain", done);
      reject(signal.reason);
    };
    const done = (): void => {
      signal.removeEventListener("abort", abort);
      resolve();
    };
    call.once("drain", done);
    signal.addEventListener("abort", abort, { once: true });
  });
}
