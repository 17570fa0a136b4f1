import { describe, expect, it } from "vitest";
import { MemoryStorage, RaftConfigError, SeededRandom, resolveConfig } from "./index.js";

const base = { id: 1, storage: new MemoryStorage(), random: new SeededRandom(1) };

describe("configuration", () => {
  it("defaults to etcd's ticks with PreVote, CheckQuorum and lease reads", () => {
    expect(resolveConfig(base)).toMatchObject({ electionTicks: 10, heartbeatTicks: 1, preVote: true, checkQuorum: true, leaseReads: true, clockDriftTicks: 2 });
  });

  it("rejects settings that would break the lease, naming the setting", () => {
    expect(() => resolveConfig({ ...base, leaseReads: true, checkQuorum: false })).toThrow(/leaseReads needs checkQuorum/);
    expect(() => resolveConfig({ ...base, clockDriftTicks: 0 })).toThrow(/clockDriftTicks must be in \[1, electionTicks - 1\)/);
    expect(() => resolveConfig({ ...base, clockDriftTicks: 9 })).toThrow(RaftConfigError);
    expect(() => resolveConfig({ ...base, electionTicks: 1 })).toThrow(/electionTicks \(1\) must be greater than heartbeatTicks \(1\)/);
    expect(() => resolveConfig({ ...base, id: 0 })).toThrow(/positive integer/);
  });
});
