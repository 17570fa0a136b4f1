// etcd's Lease service over shards. Each lease lives in one shard, its home (lease_home.ts): grants,
// revocations and TTL questions go there, keep-alives renew the deadline on the home shard leader's
// lease clock (memory only, never replicated, as etcd's lessor), and the list of leases is the union of
// every shard's. Expiry is the home leader's decision, proposed as a revocation (shard/replica.ts).
// The server picks a lease id itself when the client leaves it 0, since the id decides the home.

import { randomBytes } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import type { leaseSpec, ServiceHandlers, Writable } from "../proto/index.js";
import type * as t from "../proto/index.js";
import type * as mvcc from "../shard/mvcc/index.js";
import { headerToWire, int64ToBigint, int64ToNumber } from "./etcd_convert.js";
import { RouterError, toGrpcStatus } from "./errors.js";
import { unary } from "./grpc_handlers.js";
import { leaseHome } from "./lease_home.js";
import { revokeStubs } from "./lease_stubs.js";
import type { ShardAccess } from "./shard_access.js";

type LeaseHandlers = Required<ServiceHandlers<typeof leaseSpec.methods>>;
type KeepAliveCall = grpc.ServerDuplexStream<t.LeaseKeepAliveRequest, Writable<t.LeaseKeepAliveResponse>>;

/** Keep-alives read from one stream and not yet answered; past this the stream fails RESOURCE_EXHAUSTED. */
export const KEEPALIVES_PENDING_MAX = 1_024;

export class LeaseService {
  constructor(private readonly access: ShardAccess) {}

  /** The grpc-js handlers, for `server.addService(etcd.Lease.definition, service.handlers())`. */
  handlers(): LeaseHandlers {
    return {
      LeaseGrant: unary((req) => this.grant(req)),
      LeaseRevoke: unary((req) => this.revoke(req)),
      LeaseKeepAlive: (call) => this.keepAliveStream(call),
      LeaseTimeToLive: unary((req) => this.timeToLive(req)),
      LeaseLeases: unary(async () => this.leases()),
    };
  }

  async grant(wire: t.LeaseGrantRequest): Promise<Writable<t.LeaseGrantResponse>> {
    // etcd raises any TTL below its minimum, 0 and negative ones included, to the minimum; the state
    // machine does the raising but takes only positive TTLs, so the smallest one stands in for them.
    const ttlSeconds = Math.max(1, int64ToNumber(wire.TTL, "lease TTL"));
    const asked = int64ToBigint(wire.ID, "lease ID");
    const id = asked !== 0n ? asked : randomLeaseId();
    const home = leaseHome(this.access.map(), id).id;
    const result = await this.access.propose(home, { op: "leaseGrant", id, ttlSeconds });
    if (!result.ok) throw result.error;
    // The state machine's contract (shard/mvcc/apply.ts): a leaseGrant that applied answers with its grant.
    const granted = result.response as mvcc.LeaseGrantResponse;
    return { header: this.header(home, result.revision), ID: String(granted.id), TTL: String(granted.ttlSeconds), error: "" };
  }

  async revoke(wire: t.LeaseRevokeRequest): Promise<Writable<t.LeaseRevokeResponse>> {
    const id = int64ToBigint(wire.ID, "lease ID");
    const home = leaseHome(this.access.map(), id).id;
    const result = await this.access.leaseRevoke(home, id);
    // A lease that does not exist fails in the state machine with etcd's NOT_FOUND string.
    if (!result.ok) throw result.error;
    // The keys of other shards go before the answer, as etcd's revoke deletes every key first. The
    // lease is revoked once its home let it go: a stub that could not be reached now is left to
    // the sweep (lease_stubs.ts), rather than failing a revoke that happened.
    await revokeStubs(this.access, id).catch(() => undefined);
    return { header: this.header(home, result.revision) };
  }

  /** One keep-alive: TTL 0 when the lease is gone, as etcd answers (clients stop on it). */
  async keepAlive(wire: t.LeaseKeepAliveRequest): Promise<Writable<t.LeaseKeepAliveResponse>> {
    const id = int64ToBigint(wire.ID, "lease ID");
    const home = leaseHome(this.access.map(), id).id;
    const ttl = await this.access.leaseKeepAlive(home, id);
    return { header: this.header(home), ID: String(id), TTL: String(ttl ?? 0) };
  }

  /**
   * The TTL left, from the home leader's clock, rounded up to whole seconds (a lease granted for 5 s
   * shows 5, not 4); -1 when the lease does not exist, which is etcd's answer too, not an error.
   */
  async timeToLive(wire: t.LeaseTimeToLiveRequest): Promise<Writable<t.LeaseTimeToLiveResponse>> {
    const id = int64ToBigint(wire.ID, "lease ID");
    const home = leaseHome(this.access.map(), id).id;
    const found = await this.access.leaseTimeToLive(home, id, wire.keys);
    if (found === undefined) return { header: this.header(home), ID: String(id), TTL: "-1", grantedTTL: "0", keys: [] };
    // A lease the clock does not know yet (a grant applied a moment ago on a new leader) has its whole TTL.
    const ttl = found.remainingMs === undefined ? found.grantedTtlSeconds : Math.ceil(found.remainingMs / 1000);
    const keys = wire.keys ? [...found.keys, ...(await this.stubKeys(home, id))].sort(Buffer.compare) : [];
    return { header: this.header(home), ID: String(id), TTL: String(ttl), grantedTTL: String(found.grantedTtlSeconds), keys };
  }

  /** The keys attached to lease `id` in the shards other than its home (through their stubs). */
  private async stubKeys(home: number, id: bigint): Promise<Uint8Array[]> {
    const others = this.access.map().shards.filter((shard) => shard.id !== home);
    const perShard = await Promise.all(others.map((shard) => this.access.leaseKeys(shard.id, id)));
    return perShard.flatMap((keys) => keys ?? []);
  }

  /** Every lease, from its home shard: a stub elsewhere is not listed (it may outlive its lease by a sweep). */
  async leases(): Promise<Writable<t.LeaseLeasesResponse>> {
    const map = this.access.map();
    const shards = map.shards;
    const perShard = await Promise.all(shards.map(async (shard) => ({ shard: shard.id, leases: await this.access.leases(shard.id, "linearizable") })));
    const ids = new Set<bigint>();
    for (const { shard, leases } of perShard) for (const lease of leases) if (leaseHome(map, lease.id).id === shard) ids.add(lease.id);
    const sorted = [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return { header: this.header(shards[0]!.id), leases: sorted.map((id) => ({ ID: String(id) })) };
  }

  /**
   * The bidi stream: each request is answered in order, one at a time (a keep-alive is quick; order
   * matters to clients that match answers to requests). The stream ends when the client half-closes
   * and every answer is out; a failure other than "lease gone" ends it with that status, as etcd's does.
   */
  private keepAliveStream(call: KeepAliveCall): void {
    let pending = 0;
    let done = false;
    let answered: Promise<void> = Promise.resolve();
    const fail = (error: unknown): void => {
      if (done) return;
      done = true;
      call.emit("error", toGrpcStatus(error));
    };
    call.on("data", (req: t.LeaseKeepAliveRequest) => {
      if (done) return;
      if (++pending > KEEPALIVES_PENDING_MAX) {
        fail(new RouterError(grpc.status.RESOURCE_EXHAUSTED, "etcdserver: too many requests", `more than ${KEEPALIVES_PENDING_MAX} keep-alives are waiting on this stream; wait for answers before sending more`));
        return;
      }
      answered = answered
        .then(() => this.keepAlive(req))
        .then((response) => {
          pending--;
          if (!done) call.write(response);
        })
        .catch(fail);
    });
    call.on("end", () => {
      void answered.then(() => {
        if (done) return;
        done = true;
        call.end();
      });
    });
    call.on("cancelled", () => {
      done = true;
    });
  }

  /** The home shard's header; a keep-alive or a read reports the shard's applied revision. */
  private header(shard: number, revision?: number): Writable<t.ResponseHeader> {
    const status = this.access.raftStatus(shard);
    return headerToWire({
      clusterId: this.access.clusterId,
      memberId: this.access.memberId,
      revision: revision ?? status.appliedIndex,
      raftTerm: status.term,
    });
  }
}

/** A random positive 63-bit id, as etcd's server picks (never 0, which means "no lease"). */
function randomLeaseId(): bigint {
  return randomBytes(8).readBigUInt64BE(0) & 0x7fff_ffff_ffff_ffffn || 1n;
}
