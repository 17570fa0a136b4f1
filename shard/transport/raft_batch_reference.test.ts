// The hand-written RaftBatch codec against the reference: proto-loader's protobufjs reflection over
// peer.proto, with the mapping Peer.Raft used before (test_reflection_codec.ts). A node on either
// path must read the other's bytes, and both must read alike whatever a protobuf encoder may write.

import fc from "fast-check";
import protobuf from "protobufjs/minimal.js";
import { describe, expect, it } from "vitest";
import { wire } from "../../proto/index.js";
import type { Message } from "../../raft/index.js";
import type { DecodedRaftBatch, RaftBatch, ReceivedRaftBatch } from "./raft_batch.js";
import { decodeRaftBatch } from "./raft_batch_decoder.js";
import { encodeRaftBatch } from "./raft_batch_encoder.js";
import { arbitraryBatch, bytes, everyType, everyTypeAtDefaults } from "./test_raft_messages.js";
import { referenceDecode, referenceEncode } from "./test_reflection_codec.js";

type Writer = protobuf.Writer;

const batchOf = (messages: readonly Message[]): RaftBatch => ({ fromNode: 1, toNode: 2, groups: [{ group: 7, messages }] });

function read(decoded: DecodedRaftBatch): ReceivedRaftBatch {
  if (!decoded.ok) throw decoded.error;
  return decoded.batch;
}

/** The new decoder's batch without its (empty) lists of unreadable messages, to compare with the reference's. */
function readAll(bytes: Buffer): RaftBatch {
  const batch = read(decodeRaftBatch(bytes));
  return {
    fromNode: batch.fromNode,
    toNode: batch.toNode,
    groups: batch.groups.map(({ group, messages, unreadable }) => {
      expect(unreadable).toEqual([]);
      return { group, messages };
    }),
  };
}

const { EGROUP, fieldTag: tag, I32, I64, LEN, SGROUP, VARINT } = wire;

/** A field of each wire type that peer.proto does not have at this level, as a newer peer might send. */
function unknownFields(w: Writer): Writer {
  w.uint32(tag(90, VARINT)).uint64(2 ** 60);
  w.uint32(tag(91, I64)).fixed64(7);
  w.uint32(tag(92, LEN)).bytes(bytes("from the future"));
  w.uint32(tag(93, I32)).fixed32(9);
  w.uint32(tag(94, SGROUP)).uint32(tag(1, VARINT)).uint32(5).uint32(tag(94, EGROUP));
  return w;
}

/** protobufjs types its Buffer as a bare Uint8Array; proto-loader's side wants Node's. */
const finish = (w: Writer): Buffer => Buffer.from(w.finish());

/** A sub-message written by `body` under `fieldTag`. */
function sub(w: Writer, fieldTag: number, body: (w: Writer) => void): Writer {
  w.uint32(fieldTag).fork();
  body(w);
  return w.ldelim();
}

describe("the RaftBatch codec beside proto-loader's reflection", () => {
  it("writes bytes that proto-loader reads as the same messages, every type, with and without defaults", () => {
    for (const messages of [Object.values(everyType), Object.values(everyTypeAtDefaults)]) {
      const batch = batchOf(messages);
      expect(referenceDecode(encodeRaftBatch(batch))).toStrictEqual(batch);
    }
  });

  it("reads proto-loader's bytes as the same messages, every type, with and without defaults", () => {
    for (const messages of [Object.values(everyType), Object.values(everyTypeAtDefaults)]) {
      const batch = batchOf(messages);
      expect(readAll(referenceEncode(batch))).toStrictEqual(batch);
    }
  });

  it("agrees with proto-loader both ways on random batches (quick check)", () => {
    fc.assert(
      fc.property(arbitraryBatch, (batch) => {
        expect(referenceDecode(encodeRaftBatch(batch))).toStrictEqual(batch);
        expect(readAll(referenceEncode(batch))).toStrictEqual(batch);
      }),
      { numRuns: 200 },
    );
  });

  it("reads fields in any order, unknown fields of every wire type at every level, and repeated ids packed or not, as proto-loader does", () => {
    const w = new protobuf.BufferWriter();
    unknownFields(w);
    sub(w, tag(3, LEN), (group) => {
      unknownFields(group);
      // An append: body before envelope, its fields backwards, an entry's fields backwards.
      sub(group, tag(2, LEN), (m) => {
        sub(m, tag(4, LEN), (app) => {
          app.uint32(tag(4, VARINT)).uint32(6);
          sub(app, tag(3, LEN), (e) => {
            unknownFields(e);
            e.uint32(tag(4, LEN)).bytes(bytes("put a=1")).uint32(tag(3, VARINT)).uint32(1).uint32(tag(2, VARINT)).uint32(8).uint32(tag(1, VARINT)).uint32(4);
          });
          unknownFields(app);
          app.uint32(tag(2, VARINT)).uint32(4).uint32(tag(1, VARINT)).uint32(7);
          sub(app, tag(3, LEN), (e) => e.uint32(tag(2, VARINT)).uint32(9));
        });
        m.uint32(tag(3, VARINT)).uint32(5);
        unknownFields(m);
        m.uint32(tag(2, VARINT)).uint32(2).uint32(tag(1, VARINT)).uint32(1);
      });
      // A snapshot: voters one per field, then packed, learners packed between them.
      sub(group, tag(2, LEN), (m) => {
        m.uint32(tag(1, VARINT)).uint32(1).uint32(tag(2, VARINT)).uint32(4).uint32(tag(3, VARINT)).uint32(6);
        sub(m, tag(12, LEN), (snap) => {
          unknownFields(snap);
          sub(snap, tag(1, LEN), (snapshot) => {
            snapshot.uint32(tag(2, LEN)).bytes(bytes("inline data"));
            unknownFields(snapshot);
            sub(snapshot, tag(1, LEN), (meta) => {
              sub(meta, tag(3, LEN), (conf) => {
                conf.uint32(tag(1, VARINT)).uint32(1).uint32(tag(1, VARINT)).uint32(2);
                sub(conf, tag(2, LEN), (learners) => learners.uint32(4));
                unknownFields(conf);
                sub(conf, tag(1, LEN), (voters) => voters.uint64(2 ** 33).uint32(3));
                conf.uint32(tag(2, VARINT)).uint32(5);
              });
              unknownFields(meta);
              meta.uint32(tag(2, VARINT)).uint32(3).uint32(tag(1, VARINT)).uint32(90);
            });
          });
        });
      });
      // A timeoutNow whose body holds only fields this version does not know.
      sub(group, tag(2, LEN), (m) => sub(m, tag(13, LEN), unknownFields).uint32(tag(3, VARINT)).uint32(6));
      group.uint32(tag(1, VARINT)).uint32(7);
    });
    w.uint32(tag(2, VARINT)).uint32(2).uint32(tag(1, VARINT)).uint32(1);
    const encoded = finish(w);

    const expected: RaftBatch = {
      fromNode: 1,
      toNode: 2,
      groups: [
        {
          group: 7,
          messages: [
            {
              type: "app", from: 1, to: 2, term: 5, index: 7, logTerm: 4, commit: 6,
              entries: [
                { term: 4, index: 8, type: "confChange", data: bytes("put a=1") },
                { term: 0, index: 9, type: "normal", data: new Uint8Array(0) },
              ],
            },
            {
              type: "snap", from: 1, to: 4, term: 6,
              snapshot: { meta: { index: 90, term: 3, confState: { voters: [1, 2, 2 ** 33, 3], learners: [4, 5] } }, data: bytes("inline data") },
            },
            { type: "timeoutNow", from: 0, to: 0, term: 6 },
          ],
        },
      ],
    };
    expect(readAll(encoded)).toStrictEqual(expected);
    expect(referenceDecode(encoded)).toStrictEqual(expected);
  });

  it("takes the last of two oneof members, as protobuf says a parser must", () => {
    const w = new protobuf.BufferWriter();
    sub(w, tag(3, LEN), (group) =>
      sub(group, tag(2, LEN), (m) => {
        m.uint32(tag(3, VARINT)).uint32(2);
        sub(m, tag(10, LEN), (heartbeat) => heartbeat.uint32(tag(2, VARINT)).uint32(1));
        sub(m, tag(11, LEN), (heartbeatResp) => heartbeatResp.uint32(tag(1, VARINT)).uint32(9));
      }),
    );
    expect(readAll(finish(w)).groups[0]?.messages).toStrictEqual([{ type: "heartbeatResp", from: 0, to: 0, term: 2, round: 9 }]);
  });
});
