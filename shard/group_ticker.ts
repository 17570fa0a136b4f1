// The store's clock for its groups, and its half of quiescence (raft/quiescence.ts has the rules):
// every tick it lets a leader that stayed idle for a while go quiet, ticks the groups that are awake,
// and wakes a quiet follower whose leader's node fell silent, so that it campaigns on time again.
// Node liveness comes from the transport (one heartbeat per node pair, PeerTransport.silentMs); a
// transport that cannot tell turns quiescence off, since a quiet follower would then never notice
// that its leader died.

import type { NodeId } from "../raft/index.js";
import type { Replica } from "./replica.js";

export interface QuiesceSettings {
  /** Ticks a leader must see without entries or reads before it tries to go quiet; 0 turns quiescence off. */
  readonly idleTicks: number;
  /**
   * Ticks of silence from a leader's node after which its quiet followers wake (and, if it stays
   * silent, campaign after their election timeout). Must span several of the transport's node
   * heartbeats (nodeHeartbeatMs), so that one late heartbeat only costs a wake, not an election.
   */
  readonly peerSilenceTicksMax: number;
}

export const QUIESCE_DEFAULTS: QuiesceSettings = { idleTicks: 20, peerSilenceTicksMax: 5 };

export class GroupTicker {
  constructor(
    private readonly settings: QuiesceSettings,
    private readonly tickMs: number,
    /** Milliseconds since `node` was last heard from; undefined turns quiescence off. */
    private readonly silentMs: ((node: NodeId) => number) | undefined,
  ) {}

  get quiescing(): boolean {
    return this.silentMs !== undefined && this.settings.idleTicks > 0;
  }

  /** One tick of every group. Returns whether any group may have something to send or write. */
  tick(replicas: Iterable<Replica>): boolean {
    if (!this.quiescing) {
      for (const replica of replicas) replica.tick();
      return true;
    }
    // Asked at most once per leader node per tick, not once per group.
    const silence = new Map<NodeId, boolean>();
    const silentLimitMs = this.settings.peerSilenceTicksMax * this.tickMs;
    let active = false;
    for (const replica of replicas) {
      const raw = replica.raw;
      if (raw.quiesced && raw.raft.role !== "leader") {
        const lead = raw.raft.lead;
        let silent = silence.get(lead);
        if (silent === undefined) silence.set(lead, (silent = this.silentMs!(lead) > silentLimitMs));
        if (silent) raw.wake();
      }
      if (!raw.quiesced) {
        replica.idleTicks++;
        if (replica.idleTicks >= this.settings.idleTicks && this.idle(replica) && raw.quiesce()) {
          active = true; // the quiesce heartbeats go out at the next turn
          continue;
        }
        active = true;
      }
      // A quiet replica's tick does not reach Raft, but its waiters still time out (or ask for a
      // read index again, which needs a turn) and a quiet leader still expires leases and keys
      // (which proposes, and so wakes it).
      if (replica.tick()) active = true;
    }
    return active;
  }

  /** Nothing of the store's is under way for the replica: no proposal or read waiting, no Ready unfinished. */
  private idle(replica: Replica): boolean {
    return replica.inFlight === 0 && !replica.installing && replica.unproposed.length === 0 && replica.waiters.proposalCount === 0 && replica.waiters.readCount === 0;
  }
}
