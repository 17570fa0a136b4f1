// Everything one simulated run depends on besides its seed, with the defaults CI uses.

import { Raft, type RaftOptions } from "../../raft/index.js";
import type { NetworkProfile } from "./network.js";
import type { MachineKind } from "./sim_machine.js";
import type { RaftFactory } from "./sim_node.js";

export type FaultKind = "crash" | "pause" | "partition" | "membership" | "transfer" | "clock" | "churn" | "lossy";
export const ALL_FAULTS: readonly FaultKind[] = ["crash", "pause", "partition", "membership", "transfer", "clock", "churn", "lossy"];

export interface SimOptions {
  readonly nodes: number;
  /** Ticks of faults and client load, then `quietTicks` of healing before the final checks. */
  readonly durationTicks: number;
  readonly quietTicks: number;
  readonly clients: number;
  readonly keys: number;
  /** The base tick period in simulated microseconds. */
  readonly tickMicros: number;
  /** Each node's clock runs at a rate within [1 - drift, 1 + drift]. */
  readonly clockDrift: number;
  readonly faults: readonly FaultKind[];
  readonly nemesisEveryTicks: number;
  readonly network: NetworkProfile;
  /** A crash loses the messages sent this long before it (the transport's send queue). */
  readonly sendFlushMicros: number;
  readonly diskMicrosMin: number;
  /** Share of nodes whose disk syncs 8 times slower. */
  readonly slowDiskShare: number;
  readonly diskMicrosMax: number;
  readonly clientTimeoutTicks: number;
  /** Share of reads that ask for the lease (the rest use ReadIndex). */
  readonly leaseReadShare: number;
  /** Ticks a read waits for its read index before it is asked again (as the store does); 0 never asks again. */
  readonly readRetryTicks: number;
  readonly raft: Omit<RaftOptions, "id" | "storage" | "random" | "applied">;
  readonly makeRaft: RaftFactory;
  readonly compactEvery: number;
  readonly compactRetain: number;
  /** Readies a node may have on its disk queue at once; undefined picks 1, 2 or 4 per seed. */
  readonly pipelineDepth: number | undefined;
  /**
   * Idle ticks after which a leader tries to quiesce (raft/quiescence.ts), as the store's GroupTicker
   * does; 0 never; undefined picks 0, 1 or 4 per seed, so that quiet groups meet every fault.
   */
  readonly quiesceIdleTicks: number | undefined;
  /** A run with fewer successful operations than this proves nothing and fails. */
  readonly minOkOperations: number;
  /** The replicas' state machine: the tiny in-memory map, or the real shard state machine over memory-level. */
  readonly machine: MachineKind;
}

export const defaultSimOptions: SimOptions = {
  nodes: 3,
  durationTicks: 500,
  quietTicks: 150,
  clients: 5,
  keys: 3,
  tickMicros: 10_000,
  clockDrift: 0.05,
  faults: ALL_FAULTS,
  nemesisEveryTicks: 25,
  network: { delayMin: 100, delayMax: 2_000, slowRate: 0.02, slowDelayMax: 30_000, lossRate: 0.02, duplicateRate: 0.02 },
  sendFlushMicros: 1_000,
  diskMicrosMin: 200,
  diskMicrosMax: 4_000,
  slowDiskShare: 0.25,
  clientTimeoutTicks: 25,
  leaseReadShare: 0.5,
  readRetryTicks: 5,
  // appendBytesMax and inflightMessagesMax, when not set, are picked per seed.
  raft: { electionTicks: 10, heartbeatTicks: 1, clockDriftTicks: 2, leaseReads: true },
  makeRaft: (options) => new Raft(options),
  compactEvery: 40,
  compactRetain: 5,
  pipelineDepth: undefined,
  quiesceIdleTicks: undefined,
  minOkOperations: 30,
  machine: "kv",
};
