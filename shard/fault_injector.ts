// Faults injected into a real node for the fault tests (test/fault/): messages to and from chosen
// peers dropped as a network partition would lose them, the node's tick clock running fast or slow,
// and its wall clock (what the store reads TTLs and lease deadlines from) off by an offset and a rate.
// Only shardkv's hidden --test-faults flag makes one (cli/test_faults.ts); every other node
// passes none, and the transport, the forwarding client and the store's ticker then run their
// production path unchanged (the store reads Date.now). It must never be used to do anything but lose
// messages and skew time.

import type { NodeId } from "../raft/index.js";

export interface FaultInjector {
  /** Whether what this node sends to `node` is lost (Raft batches, snapshots, forwarded calls). */
  dropsTo(node: NodeId): boolean;
  /** Whether what `node` sends to this node is lost on arrival. */
  dropsFrom(node: NodeId): boolean;
  /** How fast this node's tick clock runs against real time: 1 as real, 2 twice as fast. Always > 0. */
  tickRate(): number;
  /** This node's wall clock in ms (an integer): Date.now() shifted and run at a rate by the faults. */
  nowMs(): number;
}

/** No fault: what the transport and the forwarding client use when none is given. */
export const NO_FAULTS: FaultInjector = {
  dropsTo: () => false,
  dropsFrom: () => false,
  tickRate: () => 1,
  nowMs: Date.now,
};
