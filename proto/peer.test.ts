// The peer API: RaftMessage mirrors raft/types.ts's Message union (checked at compile time, type by
// type and field by field), and every message type survives a RaftBatch round trip.

import { describe, expect, it } from "vitest";
import type * as raft from "../raft/types.js";
import { loadPeerApi } from "./load.js";
import type * as p from "./peer_types.js";
import type { Writable } from "./wire_types.js";

const api = loadPeerApi();
const raftCall = api.Peer.definition.Raft;
const snapshotCall = api.Peer.definition.Snapshot;

// --- compile-time mirror checks ------------------------------------------------------------------

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type BodyKeys<M> = Exclude<keyof M, "type" | "from" | "to" | "term">;
// The raft message whose `type` may be K (MsgVote serves both "vote" and "preVote").
type RaftOf<K extends raft.MessageType> = raft.Message extends infer M
  ? M extends { readonly type: infer T }
    ? K extends T
      ? M
      : never
    : never
  : never;
// The body that the oneof member K carries.
type BodyOf<K extends raft.MessageType> =
  Extract<p.RaftMessageBody, { readonly type: K }> extends infer B ? (K extends keyof B ? B[K] : never) : never;

// The oneof's members are exactly raft's message types...
const sameTypes: Same<Exclude<p.RaftMessageBody["type"], undefined>, raft.MessageType> = true;
// ...and each body has exactly the fields of its raft message, less the envelope.
const sameFields: {
  readonly [K in raft.MessageType]: Same<BodyKeys<RaftOf<K>>, keyof BodyOf<K>>;
} = {
  app: true,
  appResp: true,
  vote: true,
  preVote: true,
  voteResp: true,
  preVoteResp: true,
  heartbeat: true,
  heartbeatResp: true,
  snap: true,
  timeoutNow: true,
  prop: true,
  readIndex: true,
  readIndexResp: true,
  transferLeader: true,
};
const sameEnvelope: Same<keyof p.RaftEnvelope, "from" | "to" | "term"> = true;
const sameEntry: Same<keyof p.Entry, keyof raft.Entry> = true;
const sameProposed: Same<keyof p.ProposedEntry, keyof raft.ProposedEntry> = true;
const sameMeta: Same<keyof p.SnapshotMeta, keyof raft.SnapshotMeta> = true;
const sameConf: Same<keyof p.ConfState, keyof raft.ConfState> = true;
const sameSnapshot: Same<keyof p.Snapshot, keyof raft.Snapshot> = true;

// --- one message of every type, with no field at its default -------------------------------------

const entry = (index: number, type: Writable<p.EntryType>): Writable<p.Entry> => ({
  term: 4,
  index,
  type,
  data: Buffer.from(`entry ${index}`),
});
const snapshot: Writable<p.Snapshot> = {
  meta: { index: 90, term: 3, confState: { voters: [1, 2, 3], learners: [4] } },
  data: Buffer.from("snapshot data"),
};

const everyType: readonly Writable<p.RaftMessage>[] = [
  { from: 1, to: 2, term: 5, app: { index: 7, logTerm: 4, commit: 6, entries: [entry(8, 0), entry(9, 1)] } },
  { from: 2, to: 1, term: 5, appResp: { index: 9, reject: true, rejectHint: 3, logTerm: 2 } },
  { from: 1, to: 3, term: 6, vote: { index: 9, logTerm: 5, transfer: true } },
  { from: 1, to: 3, term: 6, preVote: { index: 9, logTerm: 5, transfer: true } },
  { from: 3, to: 1, term: 6, voteResp: { reject: true } },
  { from: 3, to: 1, term: 6, preVoteResp: { reject: true } },
  { from: 1, to: 2, term: 6, heartbeat: { commit: 9, round: 77, quiesce: true } },
  { from: 2, to: 1, term: 6, heartbeatResp: { round: 77 } },
  { from: 1, to: 4, term: 6, snap: { snapshot } },
  { from: 1, to: 2, term: 6, timeoutNow: {} },
  { from: 2, to: 1, term: 6, prop: { entries: [{ type: 1, data: Buffer.from("conf change") }] } },
  { from: 2, to: 1, term: 6, readIndex: { context: "read 12", lease: true } },
  { from: 1, to: 2, term: 6, readIndexResp: { context: "read 12", index: 9 } },
  { from: 2, to: 1, term: 6, transferLeader: { transferee: 3 } },
];

function typeOf(message: Writable<p.RaftMessage>): string | undefined {
  return Object.keys(message).find((key) => !["from", "to", "term"].includes(key));
}

describe("the peer API", () => {
  it("mirrors raft/types.ts at compile time", () => {
    expect([sameTypes, sameEnvelope, sameEntry, sameProposed, sameMeta, sameConf, sameSnapshot]).not.toContain(false);
    expect(Object.values(sameFields)).not.toContain(false);
  });

  it("has a oneof member, numbered after the envelope, for each raft message type", () => {
    const descriptor = api.packageDefinition["shardkv.peer.v1.RaftMessage"];
    if (descriptor === undefined || !("format" in descriptor)) throw new Error("no RaftMessage");
    const fields = (descriptor.type as { field: readonly { name: string; number: number }[] }).field;
    const members = fields.filter((f) => f.number > 3).map((f) => f.name);
    expect(members.sort()).toEqual(everyType.map(typeOf).sort());
    expect(new Set(members).size).toBe(14);
  });

  it("carries every message type through a RaftBatch and back, the oneof naming its type", () => {
    const batch: Writable<p.RaftBatch> = {
      fromNode: 1,
      toNode: 2,
      groups: [
        { group: 0, messages: everyType.slice(0, 7) },
        { group: 4_000_000_000, messages: everyType.slice(7) },
      ],
    };
    const decoded = raftCall.requestDeserialize(raftCall.requestSerialize(batch));
    // The same type both ways: a peer answers with batches too.
    const answered = raftCall.responseDeserialize(raftCall.responseSerialize(batch));
    expect(answered).toEqual(decoded);

    expect(decoded.fromNode).toBe(1);
    expect(decoded.toNode).toBe(2);
    expect(decoded.groups.map((g) => g.group)).toEqual([0, 4_000_000_000]);
    const messages = decoded.groups.flatMap((g) => g.messages);
    expect(messages.map((m) => m.type)).toEqual(everyType.map(typeOf));
    // Decoding adds only the oneof's name to what was sent: every field came back as it went.
    expect(messages).toEqual(everyType.map((m) => ({ ...m, type: typeOf(m) })));
  });

  it("decodes the fields of a message as raft/types.ts needs them", () => {
    const bytes = raftCall.requestSerialize({ groups: [{ group: 1, messages: [everyType[0] ?? {}, everyType[8] ?? {}] }] });
    const [app, snap] = raftCall.requestDeserialize(bytes).groups[0]?.messages ?? [];
    if (app?.type !== "app" || snap?.type !== "snap") throw new Error("wrong message types");
    expect(app.app.entries[1]).toEqual({ term: 4, index: 9, type: 1, data: Buffer.from("entry 9") });
    expect(snap.snap.snapshot?.meta?.confState).toEqual({ voters: [1, 2, 3], learners: [4] });
    expect(typeof app.term).toBe("number");
  });

  it("keeps terms and indexes up to 2^53 - 1 exact as numbers", () => {
    const big = Number.MAX_SAFE_INTEGER;
    const bytes = raftCall.requestSerialize({
      groups: [{ group: 1, messages: [{ from: 1, to: 2, term: big, heartbeat: { commit: big, round: big } }] }],
    });
    const message = raftCall.requestDeserialize(bytes).groups[0]?.messages[0];
    expect(message?.term).toBe(big);
    expect(message?.type === "heartbeat" ? message.heartbeat.commit : undefined).toBe(big);
  });

  it("decodes a message with no body as having no type", () => {
    const bytes = raftCall.requestSerialize({ groups: [{ group: 1, messages: [{ from: 1, to: 2, term: 3 }] }] });
    expect(raftCall.requestDeserialize(bytes).groups[0]?.messages[0]?.type).toBeUndefined();
  });

  it("streams a snapshot as a header chunk, then data chunks", () => {
    const header: Writable<p.SnapshotHeader> = {
      fromNode: 1,
      toNode: 4,
      group: 7,
      from: 1,
      to: 4,
      term: 6,
      meta: { index: 90, term: 3, confState: { voters: [1, 2, 3], learners: [4] } },
      dataBytes: 5,
      dataCrc32c: 0xdeadbeef,
    };
    const first = snapshotCall.requestDeserialize(snapshotCall.requestSerialize({ header }));
    expect(first).toEqual({ header, chunk: "header" });
    const next = snapshotCall.requestDeserialize(snapshotCall.requestSerialize({ data: Buffer.from("hello") }));
    expect(next).toEqual({ data: Buffer.from("hello"), chunk: "data" });
    const ack = snapshotCall.responseDeserialize(snapshotCall.responseSerialize({ group: 7, index: 90, receivedBytes: 5 }));
    expect(ack).toEqual({ group: 7, index: 90, receivedBytes: 5 });
  });

  it("has Raft as a bidirectional stream and Snapshot as a client stream", () => {
    expect(raftCall).toMatchObject({ path: "/shardkv.peer.v1.Peer/Raft", requestStream: true, responseStream: true });
    expect(snapshotCall).toMatchObject({
      path: "/shardkv.peer.v1.Peer/Snapshot",
      requestStream: true,
      responseStream: false,
    });
  });
});
