import { describe, expect, it } from "vitest";
import type { Message, MessageType } from "../../raft/index.js";
import { peerApi } from "./peer_channel.js";
import { decodeMessage, encodeMessage, PeerProtocolError } from "./message_codec.js";

const raftCall = peerApi().Peer.definition.Raft;
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const big = Number.MAX_SAFE_INTEGER;

// One message of every type, keyed by type so that a new message type fails to compile here until
// it has a case; no field at its default, so that a field the codec forgot cannot pass unnoticed.
const everyType: { readonly [K in MessageType]: Message & { readonly type: K } } = {
  app: {
    type: "app", from: 1, to: 2, term: 5, index: 7, logTerm: 4, commit: 6,
    entries: [
      { term: 4, index: 8, type: "normal", data: bytes("put a=1") },
      { term: 5, index: 9, type: "confChange", data: new Uint8Array([0, 1, 255]) },
      { term: 5, index: 10, type: "normal", data: new Uint8Array(0) },
    ],
  },
  appResp: { type: "appResp", from: 2, to: 1, term: 5, index: 9, reject: true, rejectHint: 3, logTerm: 2 },
  vote: { type: "vote", from: 1, to: 3, term: 6, index: 9, logTerm: 5, transfer: true },
  preVote: { type: "preVote", from: 1, to: 3, term: 7, index: 9, logTerm: 5, transfer: true },
  voteResp: { type: "voteResp", from: 3, to: 1, term: 6, reject: true },
  preVoteResp: { type: "preVoteResp", from: 3, to: 1, term: 7, reject: true },
  heartbeat: { type: "heartbeat", from: 1, to: 2, term: big, commit: big, round: 77, quiesce: true },
  heartbeatResp: { type: "heartbeatResp", from: 2, to: 1, term: 6, round: 77 },
  snap: {
    type: "snap", from: 1, to: 4, term: 6,
    snapshot: { meta: { index: 90, term: 3, confState: { voters: [1, 2, 3], learners: [4] } }, data: bytes("inline data") },
  },
  timeoutNow: { type: "timeoutNow", from: 1, to: 2, term: 6 },
  prop: { type: "prop", from: 2, to: 1, term: 0, entries: [{ type: "normal", data: bytes("x") }, { type: "confChange", data: bytes("cc") }] },
  readIndex: { type: "readIndex", from: 2, to: 1, term: 6, context: "read 12 ✓", lease: true },
  readIndexResp: { type: "readIndexResp", from: 1, to: 2, term: 6, context: "read 12 ✓", index: 9 },
  transferLeader: { type: "transferLeader", from: 2, to: 1, term: 6, transferee: 3 },
};

/** Through the real wire: encode, serialize as a RaftBatch, deserialize, decode. */
function overTheWire(messages: readonly Message[]): Message[] {
  const wire = raftCall.requestSerialize({ fromNode: 1, toNode: 2, groups: [{ group: 7, messages: messages.map(encodeMessage) }] });
  const batch = raftCall.requestDeserialize(wire);
  return batch.groups.flatMap((g) => g.messages.map(decodeMessage));
}

describe("the Raft message codec", () => {
  it("carries every message type through a RaftBatch and back unchanged", () => {
    const messages = Object.values(everyType);
    expect(messages).toHaveLength(14);
    expect(overTheWire(messages)).toStrictEqual(messages);
  });

  it("decodes numbers as numbers and entry data as bytes of their own, not views into the batch", () => {
    const [app] = overTheWire([everyType.app]);
    if (app?.type !== "app") throw new Error("expected an append");
    expect(typeof app.term).toBe("number");
    expect(typeof app.entries[0]?.index).toBe("number");
    const data = app.entries[0]!.data;
    expect(data.constructor).toBe(Uint8Array);
    expect(data.byteOffset).toBe(0);
    expect(data.buffer.byteLength).toBe(data.byteLength);
  });

  it("leaves quiesce off a heartbeat that is not the leader's last", () => {
    const { quiesce: _quiesce, ...plain } = everyType.heartbeat;
    expect(overTheWire([plain])[0]).toStrictEqual(plain);
  });

  it("keeps terms and commit indexes up to 2^53 - 1 exact", () => {
    expect(overTheWire([everyType.heartbeat])[0]).toMatchObject({ term: big, commit: big });
  });

  it("refuses a message with no body, or an entry type this version does not know, as a protocol error", () => {
    expect(() => decodeMessage({ from: 1, to: 2, term: 3 })).toThrow(PeerProtocolError);
    const wire = raftCall.requestSerialize({
      groups: [{ group: 1, messages: [{ from: 1, to: 2, term: 3, prop: { entries: [{ type: 7 as 0, data: bytes("?") }] } }] }],
    });
    const [message] = raftCall.requestDeserialize(wire).groups[0]!.messages;
    expect(() => decodeMessage(message!)).toThrow(/type 7/);
  });
});
