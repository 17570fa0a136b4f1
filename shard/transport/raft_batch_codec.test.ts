import fc from "fast-check";
import protobuf from "protobufjs/minimal.js";
import { describe, expect, it } from "vitest";
import type { Message } from "../../raft/index.js";
import { PeerProtocolError } from "./peer_protocol_error.js";
import type { DecodedRaftBatch, RaftBatch, ReceivedRaftBatch } from "./raft_batch.js";
import { decodeRaftBatch } from "./raft_batch_decoder.js";
import { encodeRaftBatch } from "./raft_batch_encoder.js";
import { arbitraryBatch, big, bytes, everyType, everyTypeAtDefaults } from "./test_raft_messages.js";
import { referenceEncode } from "./test_reflection_codec.js";

const batchOf = (messages: readonly Message[], group = 7): RaftBatch => ({ fromNode: 1, toNode: 2, groups: [{ group, messages }] });

function read(decoded: DecodedRaftBatch): ReceivedRaftBatch {
  if (!decoded.ok) throw decoded.error;
  return decoded.batch;
}

/** Through the bytes and back; every message must be readable. */
function roundTrip(messages: readonly Message[]): Message[] {
  const batch = read(decodeRaftBatch(encodeRaftBatch(batchOf(messages))));
  expect(batch.groups.flatMap((g) => g.unreadable)).toEqual([]);
  return batch.groups.flatMap((g) => [...g.messages]);
}

/** The batch as received, each group with no unreadable message. */
const received = (batch: RaftBatch): ReceivedRaftBatch => ({ ...batch, groups: batch.groups.map((g) => ({ ...g, unreadable: [] })) });

const tag = (field: number, wireType: number): number => (field << 3) | wireType;

describe("the RaftBatch codec", () => {
  it("carries every message type through the bytes and back unchanged", () => {
    const messages = Object.values(everyType);
    expect(messages).toHaveLength(14);
    expect(roundTrip(messages)).toStrictEqual(messages);
  });

  it("carries every message type with every field at its default unchanged, though proto3 leaves those fields out", () => {
    const messages = Object.values(everyTypeAtDefaults);
    expect(messages).toHaveLength(14);
    expect(roundTrip(messages)).toStrictEqual(messages);
  });

  it("keeps the batch's nodes and groups, group 0 and the largest uint32 group included, and an empty batch (a node heartbeat)", () => {
    const batch: RaftBatch = {
      fromNode: 3,
      toNode: 2 ** 40,
      groups: [
        { group: 0, messages: [everyType.heartbeat] },
        { group: 2 ** 32 - 1, messages: [everyType.appResp, everyType.vote] },
        { group: 5, messages: [] },
      ],
    };
    expect(read(decodeRaftBatch(encodeRaftBatch(batch)))).toStrictEqual(received(batch));
    const ping: RaftBatch = { fromNode: 1, toNode: 2, groups: [] };
    expect(read(decodeRaftBatch(encodeRaftBatch(ping)))).toStrictEqual(received(ping));
  });

  it("carries random batches through the bytes and back unchanged (quick check)", () => {
    fc.assert(
      fc.property(arbitraryBatch, (batch) => {
        expect(read(decodeRaftBatch(encodeRaftBatch(batch)))).toStrictEqual(received(batch));
      }),
      { numRuns: 300 },
    );
  });

  it("decodes numbers as numbers and entry data as bytes of their own, not views into the received message", () => {
    const encoded = encodeRaftBatch(batchOf([everyType.app, everyType.snap]));
    const [app, snap] = read(decodeRaftBatch(encoded)).groups[0]!.messages;
    if (app?.type !== "app" || snap?.type !== "snap") throw new Error("expected an append and a snapshot");
    expect(typeof app.term).toBe("number");
    expect(app.entries[1]?.index).toBe(2 ** 40);
    for (const data of [app.entries[0]!.data, snap.snapshot.data]) {
      expect(data.constructor).toBe(Uint8Array);
      expect(data.byteOffset).toBe(0);
      expect(data.buffer.byteLength).toBe(data.byteLength);
    }
    encoded.fill(0);
    expect(app.entries[0]!.data).toEqual(bytes("put a=1"));
    expect(snap.snapshot.data).toEqual(bytes("inline data"));
  });

  it("leaves quiesce off a heartbeat that is not the leader's last", () => {
    const { quiesce: _quiesce, ...plain } = everyType.heartbeat;
    expect(roundTrip([plain])[0]).toStrictEqual(plain);
  });

  it("keeps terms and commit indexes up to 2^53 - 1 exact", () => {
    expect(roundTrip([everyType.heartbeat])[0]).toMatchObject({ term: big, commit: big });
  });

  it("writes an empty oneof member, so that a timeoutNow with nothing else set still says what it is", () => {
    const encoded = encodeRaftBatch({ fromNode: 0, toNode: 0, groups: [{ group: 0, messages: [{ type: "timeoutNow", from: 0, to: 0, term: 0 }] }] });
    // groups { messages { timeoutNow {} } }: each a tag and a length, nothing else.
    expect([...encoded]).toEqual([tag(3, 2), 4, tag(2, 2), 2, tag(13, 2), 0]);
  });

  it("writes the same bytes as proto-loader's encoder when no field is at its default", () => {
    for (const message of Object.values(everyType)) {
      expect(encodeRaftBatch(batchOf([message])), message.type).toEqual(referenceEncode(batchOf([message])));
    }
  });
});

describe("reading what a peer sent", () => {
  it("drops a message with no body, or with an entry type this version does not know, and reads the others", () => {
    const unknownType = referenceEncode(batchOf([everyType.heartbeat, { ...everyType.prop, entries: [{ type: "normal", data: bytes("?") }] }, everyType.vote]));
    // Make the proposed entry's type 7: find ProposedEntry { type: 0 } as the reference writes it (tag 8, value 0).
    const at = unknownType.indexOf(Buffer.from([tag(1, 0), 0, tag(2, 2), 1, "?".charCodeAt(0)]));
    expect(at).toBeGreaterThan(0);
    unknownType[at + 1] = 7;
    const [group] = read(decodeRaftBatch(unknownType)).groups;
    expect(group?.messages).toStrictEqual([everyType.heartbeat, everyType.vote]);
    expect(group?.unreadable).toHaveLength(1);
    expect(group?.unreadable[0]).toBeInstanceOf(PeerProtocolError);
    expect(group?.unreadable[0]?.message).toMatch(/entry of type 7/);

    const w = new protobuf.BufferWriter();
    w.uint32(tag(3, 2)).fork().uint32(tag(1, 0)).uint32(4);
    w.uint32(tag(2, 2)).fork().uint32(tag(1, 0)).uint32(1).uint32(tag(2, 0)).uint32(2).uint32(tag(3, 0)).uint32(3).ldelim();
    w.uint32(tag(2, 2)).bytes(encodeMessageAlone(everyType.appResp));
    w.ldelim();
    const [noBody] = read(decodeRaftBatch(w.finish())).groups;
    expect(noBody?.messages).toStrictEqual([everyType.appResp]);
    expect(noBody?.unreadable.map((e) => e.message)).toEqual(["Cannot read a Raft message from 1 to 2: it has no body (a newer message type?)"]);
  });

  it("drops a message whose own bytes are broken, or that holds a number over 2^53 - 1, and reads the others", () => {
    const overrun = new protobuf.BufferWriter();
    // A heartbeat with a field of 5 bytes in a 2-byte body: it ends past its message, not past the batch.
    overrun.uint32(tag(10, 2)).fork().uint32(tag(2, 2)).uint32(5).ldelim();
    const tooBig = new protobuf.BufferWriter();
    tooBig.uint32(tag(3, 0)).uint64("9007199254740993").uint32(tag(13, 2)).uint32(0);
    const w = new protobuf.BufferWriter();
    w.uint32(tag(3, 2)).fork();
    w.uint32(tag(2, 2)).bytes(overrun.finish());
    w.uint32(tag(2, 2)).bytes(encodeMessageAlone(everyType.readIndex));
    w.uint32(tag(2, 2)).bytes(tooBig.finish());
    w.ldelim();
    const [group] = read(decodeRaftBatch(w.finish())).groups;
    expect(group?.messages).toStrictEqual([everyType.readIndex]);
    expect(group?.unreadable.map((e) => e.message)).toEqual([
      expect.stringMatching(/^Cannot read a Raft message at offset \d+: a field runs past the end of its message at offset \d+, to offset \d+$/),
      expect.stringMatching(/^Cannot read a Raft message at offset \d+: a uint64 at offset \d+ is over 2\^53 - 1/),
    ]);
  });

  it("rejects a batch whose framing is broken outside any message, saying why, without throwing", () => {
    const whole = encodeRaftBatch(batchOf([everyType.app, everyType.heartbeat]));
    const cases = {
      truncated: whole.subarray(0, whole.length - 3),
      "a wire type that does not exist": Buffer.concat([whole, Buffer.from([tag(9, 7), 1])]),
      "field number 0": Buffer.concat([Buffer.from([0, 1]), whole]),
    };
    for (const [name, bytes] of Object.entries(cases)) {
      const decoded = decodeRaftBatch(bytes);
      expect(decoded.ok, name).toBe(false);
      if (decoded.ok) continue;
      expect(decoded.error).toBeInstanceOf(PeerProtocolError);
      expect(decoded.error.message, name).toMatch(new RegExp(`^Cannot read a RaftBatch of ${bytes.length} bytes: `));
    }
  });

  it("never throws, whatever the bytes: random ones, and valid batches cut short or with bytes changed (quick check)", () => {
    const neverThrows = (bytes: Uint8Array): void => {
      const decoded = decodeRaftBatch(bytes);
      if (!decoded.ok) expect(decoded.error).toBeInstanceOf(PeerProtocolError);
      else for (const g of decoded.batch.groups) for (const e of g.unreadable) expect(e).toBeInstanceOf(PeerProtocolError);
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), neverThrows), { numRuns: 500 });
    fc.assert(
      fc.property(arbitraryBatch, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(), (batch, changes, cut) => {
        const encoded = new Uint8Array(encodeRaftBatch(batch));
        if (encoded.length === 0) return;
        for (const [at, value] of changes) encoded[at % encoded.length] = value;
        neverThrows(encoded);
        neverThrows(encoded.subarray(0, cut % encoded.length));
      }),
      { numRuns: 500 },
    );
  });
});

/** One RaftMessage's bytes, without the batch around it. */
function encodeMessageAlone(message: Message): Uint8Array {
  const batch = encodeRaftBatch({ fromNode: 0, toNode: 0, groups: [{ group: 0, messages: [message] }] });
  const reader = protobuf.Reader.create(batch);
  reader.uint32(); // groups tag
  reader.uint32(); // its length
  reader.uint32(); // messages tag
  return reader.bytes();
}
