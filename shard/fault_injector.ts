// Faults injected into a real node for the fault tests (test/fault/): messages to and from chosen
// peers dropped as a network partition would lose them, and the node's tick clock running fast or
// slow. Only shardkv's hidden --test-faults flag makes one (cli/test_faults.ts); every other node
// passes none, and the transport, the forwarding client and the store's ticker then run their
// production path unchanged. It must never be used to do anything but lose messages and skew time.

import type { NodeId } from "../raft/index.js";

export interface FaultInjector {
  /** Whether what this node sends to `node` is lost (Raft batches, snapshots, forwarded calls). */
  dropsTo(node: NodeId): boolean;
  /** Whether what `node` sends to this node is lost on arrival. */
  dropsFrom(node: NodeId): boolean;
  /** How fast this node's tick clock runs against real time: 1 as real, 2 twice as fast. Always > 0. */
  tickRate(): number;
}

/** No fault: what the transport and the forwarding client use when none is given. */
export const NO_FAULTS: FaultInjector = {
  dropsTo: () => false,
  dropsFrom: () => false,
  tickRate: () => 1,
};
