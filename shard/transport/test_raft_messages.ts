// For tests only: Raft messages to put through the RaftBatch codec. One of every type with no field at
// its default (a field the codec forgot cannot pass unnoticed), one of every type with every field at
// its default (proto3 leaves those out of the bytes), and random ones for quick checks.

import fc from "fast-check";
import type { Entry, Message, MessageType, ProposedEntry } from "../../raft/index.js";

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const big = Number.MAX_SAFE_INTEGER;

/** Keyed by type, so that a new message type fails to compile here until it has a case. */
type EveryType = { readonly [K in MessageType]: Message & { readonly type: K } };

export const everyType: EveryType = {
  app: {
    type: "app", from: 1, to: 2, term: 5, index: 7, logTerm: 4, commit: 6,
    entries: [
      { term: 4, index: 8, type: "confChange", data: bytes("put a=1") },
      { term: 5, index: 2 ** 40, type: "confChange", data: new Uint8Array([0, 1, 255]) },
    ],
  },
  appResp: { type: "appResp", from: 2, to: 1, term: 5, index: 9, reject: true, rejectHint: 3, logTerm: 2 },
  vote: { type: "vote", from: 1, to: 3, term: 6, index: 9, logTerm: 5, transfer: true },
  preVote: { type: "preVote", from: 1, to: 3, term: 7, index: 9, logTerm: 5, transfer: true },
  voteResp: { type: "voteResp", from: 3, to: 1, term: 6, reject: true },
  preVoteResp: { type: "preVoteResp", from: 3, to: 1, term: 7, reject: true },
  heartbeat: { type: "heartbeat", from: 1, to: 2, term: big, commit: big, round: 77, quiesce: true },
  heartbeatResp: { type: "heartbeatResp", from: 2, to: 1, term: 6, round: 2 ** 32 },
  snap: {
    type: "snap", from: 1, to: 4, term: 6,
    snapshot: { meta: { index: 90, term: 3, confState: { voters: [1, 2, 2 ** 33], learners: [4] } }, data: bytes("inline data") },
  },
  timeoutNow: { type: "timeoutNow", from: 1, to: 2, term: 6 },
  prop: { type: "prop", from: 2, to: 1, term: 3, entries: [{ type: "confChange", data: bytes("x") }, { type: "confChange", data: bytes("cc") }] },
  readIndex: { type: "readIndex", from: 2, to: 1, term: 6, context: "read 12 ✓", lease: true },
  readIndexResp: { type: "readIndexResp", from: 1, to: 2, term: 6, context: "read 12 ✓", index: 9 },
  transferLeader: { type: "transferLeader", from: 2, to: 1, term: 6, transferee: 3 },
};

const none = { from: 0, to: 0, term: 0 } as const;
const emptyEntry: Entry = { term: 0, index: 0, type: "normal", data: new Uint8Array(0) };
const emptyProposed: ProposedEntry = { type: "normal", data: new Uint8Array(0) };

export const everyTypeAtDefaults: EveryType = {
  app: { type: "app", ...none, index: 0, logTerm: 0, commit: 0, entries: [emptyEntry, emptyEntry] },
  appResp: { type: "appResp", ...none, index: 0, reject: false, rejectHint: 0, logTerm: 0 },
  vote: { type: "vote", ...none, index: 0, logTerm: 0, transfer: false },
  preVote: { type: "preVote", ...none, index: 0, logTerm: 0, transfer: false },
  voteResp: { type: "voteResp", ...none, reject: false },
  preVoteResp: { type: "preVoteResp", ...none, reject: false },
  heartbeat: { type: "heartbeat", ...none, commit: 0, round: 0 },
  heartbeatResp: { type: "heartbeatResp", ...none, round: 0 },
  snap: { type: "snap", ...none, snapshot: { meta: { index: 0, term: 0, confState: { voters: [], learners: [] } }, data: new Uint8Array(0) } },
  timeoutNow: { type: "timeoutNow", ...none },
  prop: { type: "prop", ...none, entries: [emptyProposed] },
  readIndex: { type: "readIndex", ...none, context: "", lease: false },
  readIndexResp: { type: "readIndexResp", ...none, context: "", index: 0 },
  transferLeader: { type: "transferLeader", ...none, transferee: 0 },
};

// ---- Random messages ----------------------------------------------------------------------------

/** fast-check's records may lack a prototype; decoded messages never do. */
const plain = { noNullPrototype: true } as const;

/** Raft numbers, with the varint length boundaries and 2^32 (past uint32) likely. */
const u53 = fc.oneof(
  fc.constantFrom(0, 1, 127, 128, 16_383, 16_384, 2 ** 32 - 1, 2 ** 32, big),
  fc.nat({ max: 100_000 }),
  fc.maxSafeNat(),
);
const data = fc.uint8Array({ maxLength: 40 });
const entryType = fc.constantFrom("normal" as const, "confChange" as const);
const entry: fc.Arbitrary<Entry> = fc.record({ term: u53, index: u53, type: entryType, data }, plain);
const proposed: fc.Arbitrary<ProposedEntry> = fc.record({ type: entryType, data }, plain);
const ids = fc.array(u53, { maxLength: 5 });
const context = fc.string({ unit: "grapheme", maxLength: 12 });
const envelope = { from: u53, to: u53, term: u53 };
const confState = fc.record({ voters: ids, learners: ids }, plain);
const snapshot = fc.record({ meta: fc.record({ index: u53, term: u53, confState }, plain), data }, plain);

export const arbitraryMessage: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ type: fc.constant("app"), ...envelope, index: u53, logTerm: u53, commit: u53, entries: fc.array(entry, { maxLength: 4 }) }, plain),
  fc.record({ type: fc.constant("appResp"), ...envelope, index: u53, reject: fc.boolean(), rejectHint: u53, logTerm: u53 }, plain),
  fc.record({ type: fc.constantFrom("vote" as const, "preVote" as const), ...envelope, index: u53, logTerm: u53, transfer: fc.boolean() }, plain),
  fc.record({ type: fc.constantFrom("voteResp" as const, "preVoteResp" as const), ...envelope, reject: fc.boolean() }, plain),
  fc.record({ type: fc.constant("heartbeat"), ...envelope, commit: u53, round: u53, quiesce: fc.constant(true) }, { ...plain, requiredKeys: ["type", "from", "to", "term", "commit", "round"] }),
  fc.record({ type: fc.constant("heartbeatResp"), ...envelope, round: u53 }, plain),
  fc.record({ type: fc.constant("snap"), ...envelope, snapshot }, plain),
  fc.record({ type: fc.constant("timeoutNow"), ...envelope }, plain),
  fc.record({ type: fc.constant("prop"), ...envelope, entries: fc.array(proposed, { maxLength: 4 }) }, plain),
  fc.record({ type: fc.constant("readIndex"), ...envelope, context, lease: fc.boolean() }, plain),
  fc.record({ type: fc.constant("readIndexResp"), ...envelope, context, index: u53 }, plain),
  fc.record({ type: fc.constant("transferLeader"), ...envelope, transferee: u53 }, plain),
);

const group = fc.record({ group: fc.nat({ max: 2 ** 32 - 1 }), messages: fc.array(arbitraryMessage, { maxLength: 4 }) }, plain);
export const arbitraryBatch = fc.record({ fromNode: u53, toNode: u53, groups: fc.array(group, { maxLength: 3 }) }, plain);
