// Peer.Raft over real gRPC between this transport and other senders and receivers: a node on
// proto-loader's reflection path (the transport before its hand-written codec) both ways, and peers
// that send what cannot be read, which costs the message or the batch, never the stream or the node.

import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import type { peer, PeerSpec, ServiceHandlers } from "../../proto/index.js";
import type { Message } from "../../raft/index.js";
import { peerApi } from "./peer_definition.js";
import { PeerTransport } from "./peer_transport.js";
import { everyType } from "./test_raft_messages.js";
import { decodeMessage, encodeMessage, referenceEncode } from "./test_reflection_codec.js";
import type { TransportHost } from "./transport_host.js";

const RAFT_PATH = "/shardkv.peer.v1.Peer/Raft";
const closers: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

class SteppingHost implements TransportHost {
  readonly stepped: { group: number; message: Message }[] = [];
  step(group: number, message: Message): void {
    this.stepped.push({ group, message });
  }
  async *snapshotChunks(): AsyncGenerator<Uint8Array> {}
  async receiveSnapshot(): Promise<void> {}
  reportSnapshot(): void {}
  reportUnreachable(): void {}
}

/** Node 2, on this transport, with a host that records what it steps and a log. */
async function receiver(): Promise<{ transport: PeerTransport; host: SteppingHost; log: string[]; address: string }> {
  const log: string[] = [];
  const transport = new PeerTransport({ nodeId: 2, listenAddress: "127.0.0.1:0", log: (line) => log.push(line), limits: { closeGraceMs: 200 } });
  closers.push(() => transport.close());
  const host = new SteppingHost();
  transport.attach(host);
  return { transport, host, log, address: await transport.start() };
}

/** A Peer.Raft stream that writes bytes as given, as a peer with a broken encoder would. */
function rawStream(address: string): grpc.ClientDuplexStream<Buffer, Buffer> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const call = client.makeBidiStreamRequest(RAFT_PATH, (bytes: Buffer) => bytes, (bytes: Buffer) => bytes, new grpc.Metadata());
  call.on("error", () => undefined);
  closers.push(() => {
    call.cancel();
    client.close();
  });
  return call;
}

/** Every type but snap (which travels on Peer.Snapshot), addressed to node 2. */
const toNode2: readonly Message[] = Object.values(everyType)
  .filter((m) => m.type !== "snap")
  .map((m) => ({ ...m, to: 2 }));

describe("Peer.Raft between this transport and other peers", () => {
  it("reads the batches of a node on proto-loader's reflection path", async () => {
    const { host, address } = await receiver();
    const client = new (peerApi().Peer.Client)(address, grpc.credentials.createInsecure());
    const call = client.Raft(new grpc.Metadata(), {});
    call.on("error", () => undefined);
    closers.push(() => {
      call.cancel();
      client.close();
    });
    const messages = Object.values(everyType);
    call.write({ fromNode: 1, toNode: 2, groups: [{ group: 5, messages: messages.map(encodeMessage) }] });
    await until("every message is stepped", () => host.stepped.length === messages.length);
    expect(host.stepped).toStrictEqual(messages.map((message) => ({ group: 5, message })));
  });

  it("sends batches that a node on proto-loader's reflection path reads", async () => {
    const received: { group: number; message: Message }[] = [];
    const handlers: ServiceHandlers<PeerSpec["methods"]> = {
      Raft: (call) => {
        call.sendMetadata(new grpc.Metadata());
        call.on("data", (batch: peer.RaftBatch) => {
          for (const { group, messages } of batch.groups) for (const wire of messages) received.push({ group, message: decodeMessage(wire) });
        });
        call.on("end", () => call.end());
      },
    };
    const server = new grpc.Server();
    server.addService(peerApi().Peer.definition, handlers);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error === null ? resolve(bound) : reject(error))),
    );
    closers.push(() => void server.forceShutdown());
    const sender = new PeerTransport({ nodeId: 1, listenAddress: "127.0.0.1:0", peers: new Map([[2, `127.0.0.1:${port}`]]), limits: { closeGraceMs: 200 } });
    closers.push(() => sender.close());

    sender.send(3, toNode2);
    await until("every message arrives", () => received.length === toNode2.length);
    expect(received).toStrictEqual(toNode2.map((message) => ({ group: 3, message })));
  });

  it("drops only the message it cannot read, and counts and logs it", async () => {
    const { transport, host, log, address } = await receiver();
    const prop: Message = { type: "prop", from: 1, to: 2, term: 3, entries: [{ type: "normal", data: Buffer.from("?") }] };
    const bytes = referenceEncode({ fromNode: 1, toNode: 2, groups: [{ group: 4, messages: [toNode2[0]!, prop, toNode2[1]!] }] });
    // The proposed entry's type (field 1, a varint, written by the reference even at 0) becomes 7.
    const at = bytes.indexOf(Buffer.from([1 << 3, 0, (2 << 3) | 2, 1, "?".charCodeAt(0)]));
    expect(at).toBeGreaterThan(0);
    bytes[at + 1] = 7;
    rawStream(address).write(bytes);

    await until("the readable messages are stepped", () => host.stepped.length === 2);
    expect(host.stepped.map((s) => s.message)).toStrictEqual([toNode2[0], toNode2[1]]);
    expect(transport.stats().service).toMatchObject({ receivedBatches: 1, receivedMessages: 2, rejectedMessages: 1, rejectedBatches: 0 });
    expect(log).toEqual([expect.stringMatching(/^node 2: dropped a message of group 4 from node 1: Cannot read an entry of type 7/)]);
  });

  it("drops a batch whose bytes are not a RaftBatch, says why, and keeps reading the stream", async () => {
    const { transport, host, log, address } = await receiver();
    const stream = rawStream(address);
    const good = referenceEncode({ fromNode: 1, toNode: 2, groups: [{ group: 4, messages: [toNode2[0]!] }] });
    stream.write(good.subarray(0, good.length - 2));
    stream.write(good);

    await until("the good batch is stepped", () => host.stepped.length === 1);
    expect(transport.stats().service).toMatchObject({ receivedBatches: 1, receivedMessages: 1, rejectedBatches: 1 });
    expect(log).toEqual([expect.stringMatching(new RegExp(`^node 2: dropped a Raft batch: Cannot read a RaftBatch of ${good.length - 2} bytes: `))]);
  });
});
