// Node-level liveness (PeerStream.ping, PeerTransport.silentMs): with no Raft traffic at all, as when
// every group is quiet, each node still hears from each peer every nodeHeartbeatMs, and stops hearing
// once the peer is gone.

import { afterEach, describe, expect, it } from "vitest";
import { PeerTransport } from "./peer_transport.js";

const transports: PeerTransport[] = [];
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function pair(nodeHeartbeatMs: number): Promise<[PeerTransport, PeerTransport]> {
  const limits = { nodeHeartbeatMs, closeGraceMs: 200 };
  const a = new PeerTransport({ nodeId: 1, listenAddress: "127.0.0.1:0", limits });
  const b = new PeerTransport({ nodeId: 2, listenAddress: "127.0.0.1:0", limits });
  transports.push(a, b);
  const [addressA, addressB] = await Promise.all([a.start(), b.start()]);
  a.setPeer(2, addressB);
  b.setPeer(1, addressA);
  return [a, b];
}

describe("node liveness between peers", () => {
  it("a node hears from an idle peer every node heartbeat, without any Raft message", async () => {
    const [a, b] = await pair(20);
    // The first pings open the streams; the next ones arrive as empty batches.
    await sleep(300);
    for (let i = 0; i < 5; i++) {
      expect(a.silentMs(2)).toBeLessThan(150);
      expect(b.silentMs(1)).toBeLessThan(150);
      await sleep(40);
    }
    expect(a.stats().peers.get(2)?.sentMessages).toBe(0);
  });

  it("silence grows once the peer is gone, and counts from the start for a peer never heard", async () => {
    const [a, b] = await pair(20);
    await sleep(300);
    await b.close();
    await sleep(300);
    expect(a.silentMs(2)).toBeGreaterThanOrEqual(250);
    expect(a.silentMs(9)).toBeGreaterThanOrEqual(600);
  });
});
