// Everything that tunes one Raft replica, with defaults like etcd's and the relations between the
// limits checked once, at start-up, with messages that say which setting to change.

import type { RandomSource } from "./random.js";
import type { LogStorage } from "./storage.js";
import type { NodeId } from "./types.js";

export interface RaftConfig {
  readonly id: NodeId;
  readonly storage: LogStorage;
  /** Election jitter comes from here and nowhere else, so a seed replays a run. */
  readonly random: RandomSource;
  /** Ticks without hearing from a leader before a follower campaigns (randomized in [n, 2n)). */
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  /** The state machine's applied index on restart; entries up to it are not handed out again. */
  readonly applied: number;
  /** A leader steps down after an election timeout without hearing from a quorum (§6.2). */
  readonly checkQuorum: boolean;
  /** A candidate first asks whether it could win, without disturbing the term (§9.6). */
  readonly preVote: boolean;
  /** Serve reads on the leader lease without a round trip (§6.4.1). Needs checkQuorum. */
  readonly leaseReads: boolean;
  /**
   * How many ticks the lease is shorter than the election timeout: covers clock drift between the
   * leader and its followers and the rounding of time to whole ticks. With clocks that may run fast or
   * slow by a rate ρ, the lease is safe when
   *   (electionTicks - clockDriftTicks) * (1 + ρ) <= (electionTicks - 1) * (1 - ρ).
   */
  readonly clockDriftTicks: number;
  /** Bytes of entries in one append message (at least one entry is always sent). */
  readonly appendBytesMax: number;
  /** Appends in flight to one follower before the leader waits for answers. */
  readonly inflightMessagesMax: number;
  /** Bytes in flight to one follower; 0 for no byte limit. */
  readonly inflightBytesMax: number;
  /** Bytes of committed entries handed out in one Ready. */
  readonly committedBytesPerReadyMax: number;
  /** Bytes of proposed, not yet committed entries before new proposals are refused; 0 for no limit. */
  readonly uncommittedBytesMax: number;
  /** Reads waiting for a heartbeat round on the leader before new ones are refused. */
  readonly pendingReadsMax: number;
  /** Followers forward proposals to the leader; when false they refuse them. */
  readonly forwardProposals: boolean;
  /**
   * The leader's last word on a normal entry a follower forwarded (MsgProp), before it is appended:
   * the driver's way to decide on the leader what must not depend on the follower, such as the
   * clock. Undefined: appended as they came.
   */
  readonly stampForwarded: ((data: Uint8Array) => Uint8Array) | undefined;
}

export const defaultRaftConfig = {
  electionTicks: 10,
  heartbeatTicks: 1,
  applied: 0,
  checkQuorum: true,
  preVote: true,
  leaseReads: true,
  clockDriftTicks: 2,
  appendBytesMax: 1024 * 1024,
  inflightMessagesMax: 256,
  inflightBytesMax: 0,
  committedBytesPerReadyMax: 16 * 1024 * 1024,
  uncommittedBytesMax: 0,
  pendingReadsMax: 65536,
  forwardProposals: true,
  stampForwarded: undefined,
} satisfies Partial<RaftConfig>;

export type RaftOptions = Pick<RaftConfig, "id" | "storage" | "random"> & Partial<Omit<RaftConfig, "id" | "storage" | "random">>;

export function resolveConfig(options: RaftOptions): RaftConfig {
  const config: RaftConfig = { ...defaultRaftConfig, ...options };
  validateConfig(config);
  return config;
}

export class RaftConfigError extends Error {
  override readonly name = "RaftConfigError";
}

export function validateConfig(c: RaftConfig): void {
  const fail = (message: string): never => {
    throw new RaftConfigError(message);
  };
  if (!Number.isSafeInteger(c.id) || c.id <= 0) fail(`Raft node id must be a positive integer, got ${c.id}`);
  if (c.heartbeatTicks < 1) fail(`heartbeatTicks must be at least 1, got ${c.heartbeatTicks}`);
  if (c.electionTicks <= c.heartbeatTicks) {
    fail(`electionTicks (${c.electionTicks}) must be greater than heartbeatTicks (${c.heartbeatTicks}); etcd uses 10 and 1`);
  }
  if (c.leaseReads && !c.checkQuorum) fail("leaseReads needs checkQuorum: without it a deposed leader could keep serving reads");
  if (c.clockDriftTicks < 1 || c.clockDriftTicks >= c.electionTicks - 1) {
    fail(`clockDriftTicks must be in [1, electionTicks - 1), got ${c.clockDriftTicks} with electionTicks ${c.electionTicks}`);
  }
  if (c.appendBytesMax < 1) fail(`appendBytesMax must be positive, got ${c.appendBytesMax}`);
  if (c.inflightMessagesMax < 1) fail(`inflightMessagesMax must be at least 1, got ${c.inflightMessagesMax}`);
  if (c.committedBytesPerReadyMax < 1) fail(`committedBytesPerReadyMax must be positive, got ${c.committedBytesPerReadyMax}`);
  if (c.pendingReadsMax < 1) fail(`pendingReadsMax must be at least 1, got ${c.pendingReadsMax}`);
  if (c.applied < 0) fail(`applied must not be negative, got ${c.applied}`);
}
