import { describe, expect, it } from "vitest";
import type { SnapshotMeta } from "../../raft/index.js";
import { peerApi } from "./peer_definition.js";
import { PeerProtocolError } from "./peer_protocol_error.js";
import { decodeMeta, encodeMeta } from "./snapshot_meta_codec.js";

const snapshotCall = peerApi().Peer.definition.Snapshot;
const meta: SnapshotMeta = { index: 90, term: 3, confState: { voters: [1, 2, 3], learners: [4] } };

describe("a snapshot header's metadata", () => {
  it("goes through a Peer.Snapshot header chunk and back unchanged", () => {
    const header = { fromNode: 1, toNode: 2, group: 7, from: 1, to: 2, term: 6, meta: encodeMeta(meta) };
    const chunk = snapshotCall.requestDeserialize(snapshotCall.requestSerialize({ header }));
    if (chunk.chunk !== "header") throw new Error("expected a header chunk");
    expect(decodeMeta(chunk.header.meta)).toStrictEqual(meta);
  });

  it("is a protocol error when a header comes without metadata or without membership", () => {
    expect(() => decodeMeta(null)).toThrow(PeerProtocolError);
    expect(() => decodeMeta({ index: 90, term: 3, confState: null })).toThrow(/index 90: it has no membership/);
  });
});
