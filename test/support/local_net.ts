// Stores on one process, wired together: Raft messages go through setImmediate (as if over a socket),
// snapshots stream chunk by chunk from the sender's LevelDB to the receiver's, and a node can be cut
// off and let back in. What the peer transport will do over gRPC, without the sockets.

import type { Message, MsgSnap, NodeId } from "../../raft/index.js";
import type { Store, Transport } from "../../shard/store.js";

export class LocalNet {
  readonly stores = new Map<NodeId, Store>();
  readonly cut = new Set<NodeId>();
  /** Messages it answers true for are lost on the way (one direction of one link, say). */
  lose: (from: NodeId, to: NodeId, message: Message) => boolean = () => false;
  snapshotsSent = 0;

  transportFor(from: NodeId): Transport {
    return {
      send: (group, messages) => {
        for (const message of messages) this.deliver(from, group, message);
      },
    };
  }

  private reachable(a: NodeId, b: NodeId): boolean {
    return !this.cut.has(a) && !this.cut.has(b) && this.stores.has(a) && this.stores.has(b);
  }

  private deliver(from: NodeId, group: number, message: Message): void {
    if (message.type === "snap") {
      void this.sendSnapshot(from, group, message);
      return;
    }
    setImmediate(() => {
      if (this.reachable(from, message.to) && !this.lose(from, message.to, message)) this.stores.get(message.to)!.step(group, message);
    });
  }

  private async sendSnapshot(from: NodeId, group: number, message: MsgSnap): Promise<void> {
    const source = this.stores.get(from);
    const target = this.stores.get(message.to);
    let delivered = false;
    if (source !== undefined && target !== undefined && this.reachable(from, message.to)) {
      this.snapshotsSent++;
      try {
        await target.receiveSnapshot(group, message, source.snapshotChunks(group, 4096));
        delivered = true;
      } catch {
        delivered = false;
      }
    }
    source?.reportSnapshot(group, message.to, delivered);
  }
}
