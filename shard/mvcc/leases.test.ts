import { describe, expect, test } from "vitest";
import { bytes, errorOf, openShard, responseOf, text } from "./fixtures.js";
import { ETCD_ERRORS } from "./errors.js";
import type { LeaseGrantResponse, LeaseRevokeResponse } from "./requests.js";
import { ShardState } from "./shard_state.js";

describe("leases", () => {
  test("a grant below the minimum TTL is raised to it", async () => {
    const s = await openShard({ leaseTtlMinSeconds: 5 });
    expect(responseOf<LeaseGrantResponse>(await s.one({ op: "leaseGrant", id: 1n, ttlSeconds: 1 }))).toEqual({ id: 1n, ttlSeconds: 5 });
    expect(responseOf<LeaseGrantResponse>(await s.one({ op: "leaseGrant", id: 2n, ttlSeconds: 60 }))).toEqual({ id: 2n, ttlSeconds: 60 });
    expect(s.state.leases()).toEqual([
      { id: 1n, ttlSeconds: 5 },
      { id: 2n, ttlSeconds: 60 },
    ]);
  });

  test("granting an id that exists fails FAILED_PRECONDITION with etcd's message", async () => {
    const s = await openShard();
    await s.one({ op: "leaseGrant", id: 1n, ttlSeconds: 10 });
    expect(errorOf(await s.one({ op: "leaseGrant", id: 1n, ttlSeconds: 20 }))).toMatchObject({
      code: "FAILED_PRECONDITION",
      message: ETCD_ERRORS.leaseExists,
    });
    expect(s.state.leases()).toEqual([{ id: 1n, ttlSeconds: 10 }]);
  });

  test("revoking deletes every attached key, each with a delete event, and the lease", async () => {
    const s = await openShard();
    await s.one({ op: "leaseGrant", id: 9n, ttlSeconds: 10 });
    await s.put("a", "1", { lease: 9n });
    await s.put("b", "2", { lease: 9n });
    await s.put("c", "3");
    const revoke = await s.one({ op: "leaseRevoke", id: 9n });
    expect(responseOf<LeaseRevokeResponse>(revoke).deleted).toBe(2);
    expect(s.state.getSync(bytes("a"), 0)).toBeUndefined();
    expect(s.state.getSync(bytes("b"), 0)).toBeUndefined();
    expect(s.state.getSync(bytes("c"), 0)).toBeDefined();
    const events = await s.state.events(5, bytes("\0"), bytes("\0"), 10);
    expect(events.map((e) => [e.type, text(e.kv.key), e.prevKv?.lease])).toEqual([
      ["delete", "a", 9n],
      ["delete", "b", 9n],
    ]);
    expect(s.state.leases()).toEqual([]);
    expect(await s.state.leaseTimeToLive(9n, true)).toBeUndefined();
  });

  test("revoking an unknown lease fails NOT_FOUND", async () => {
    const s = await openShard();
    expect(errorOf(await s.one({ op: "leaseRevoke", id: 3n }))).toMatchObject({ code: "NOT_FOUND", message: ETCD_ERRORS.leaseNotFound });
  });

  test("a put moves the key's attachment: the old lease's revoke leaves it alone", async () => {
    const s = await openShard();
    await s.one({ op: "leaseGrant", id: 1n, ttlSeconds: 10 });
    await s.one({ op: "leaseGrant", id: 2n, ttlSeconds: 10 });
    await s.put("moved", "v", { lease: 1n });
    await s.put("moved", "v", { lease: 2n });
    await s.put("dropped", "v", { lease: 1n });
    await s.put("dropped", "v"); // a put without a lease detaches
    expect((await s.state.leaseTimeToLive(1n, true))?.keys).toEqual([]);
    expect((await s.state.leaseTimeToLive(2n, true))?.keys.map(text)).toEqual(["moved"]);
    await s.one({ op: "leaseRevoke", id: 1n });
    expect(s.state.getSync(bytes("moved"), 0)?.lease).toBe(2n);
    expect(s.state.getSync(bytes("dropped"), 0)?.lease).toBe(0n);
  });

  test("timeToLive reports the granted TTL and, when asked, the attached keys in order", async () => {
    const s = await openShard();
    await s.one({ op: "leaseGrant", id: 4n, ttlSeconds: 30 });
    await s.put("z", "v", { lease: 4n });
    await s.put("m", "v", { lease: 4n });
    expect(await s.state.leaseTimeToLive(4n, false)).toEqual({ grantedTtlSeconds: 30, keys: [] });
    expect((await s.state.leaseTimeToLive(4n, true))?.keys.map(text)).toEqual(["m", "z"]);
  });

  test("the lease table survives a reopen, sorted by signed id", async () => {
    const s = await openShard();
    await s.one({ op: "leaseGrant", id: 300n, ttlSeconds: 10 });
    await s.one({ op: "leaseGrant", id: -5n, ttlSeconds: 10 });
    await s.one({ op: "leaseGrant", id: 7n, ttlSeconds: 10 });
    const reopened = await ShardState.open({ db: s.db, prefix: s.state.prefix });
    expect(reopened.leases().map((l) => l.id)).toEqual([-5n, 7n, 300n]);
  });

  test("a lease granted and revoked in one apply call is gone from the mirror", async () => {
    const s = await openShard();
    await s.run({ op: "leaseGrant", id: 1n, ttlSeconds: 10 }, { op: "leaseRevoke", id: 1n }, { op: "leaseGrant", id: 2n, ttlSeconds: 10 });
    expect(s.state.leases()).toEqual([{ id: 2n, ttlSeconds: 10 }]);
  });
});
