// The simulated network between replicas: per-message delay (so also reordering), loss and
// duplication, and partitions as a set of blocked directed links (so one-way partitions too). A
// message is dropped if its link is blocked when it is sent or when it would arrive.

import type { NodeId, SeededRandom } from "../../raft/index.js";

export interface NetworkProfile {
  /** Delay range of a normal message, in simulated microseconds. */
  readonly delayMin: number;
  readonly delayMax: number;
  /** Chance that a message takes up to `slowDelayMax` instead (a congested link). */
  readonly slowRate: number;
  readonly slowDelayMax: number;
  readonly lossRate: number;
  readonly duplicateRate: number;
}

export class Network {
  private readonly blocked = new Set<string>();
  /** Loss on top of the profile's, while a flaky-network fault lasts. */
  extraLossRate = 0;

  constructor(
    readonly profile: NetworkProfile,
    private readonly random: SeededRandom,
  ) {}

  isBlocked(from: NodeId, to: NodeId): boolean {
    return this.blocked.has(`${from}>${to}`);
  }

  /** The arrival delays of the copies of one message: none if it is lost. */
  deliveries(from: NodeId, to: NodeId): number[] {
    if (this.isBlocked(from, to) || this.random.chance(this.profile.lossRate + this.extraLossRate)) return [];
    const copies = this.random.chance(this.profile.duplicateRate) ? 2 : 1;
    const delays: number[] = [];
    for (let i = 0; i < copies; i++) {
      const p = this.profile;
      delays.push(this.random.chance(p.slowRate) ? p.delayMin + this.random.int(p.slowDelayMax) : p.delayMin + this.random.int(p.delayMax - p.delayMin + 1));
    }
    return delays;
  }

  blockOneWay(from: NodeId, to: NodeId): void {
    this.blocked.add(`${from}>${to}`);
  }

  /** Cuts every link between the groups; links within a group stay. */
  partition(groups: readonly (readonly NodeId[])[]): void {
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const x of a) for (const y of b) this.blockOneWay(x, y);
      }
    }
  }

  heal(): void {
    this.blocked.clear();
  }

  describe(): string {
    return [...this.blocked].sort().join(",");
  }
}
