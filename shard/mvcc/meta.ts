// The shard's meta record (P 'm'): how far the state machine got and the few numbers that describe
// the whole shard. It is written in the same batch as the data it covers, so that after a crash the
// applied index never claims an effect that LevelDB lost, nor misses one it kept.

import type { ConfState } from "../../raft/index.js";
import { ByteReader, ByteWriter } from "./wire.js";

export const STATE_FORMAT_VERSION = 1;

export interface ShardMeta {
  /** Invariant: every effect of entries <= appliedIndex is in the database, none of later ones. */
  readonly appliedIndex: number;
  readonly appliedTerm: number;
  readonly confState: ConfState;
  /** Invariant: compactRevision <= appliedIndex; events <= compactRevision are gone. */
  readonly compactRevision: number;
  /** The largest header.nowMs applied: apply's clock never goes back (a new leader's may lag). */
  readonly lastNowMs: number;
  /** Events under P 'e' (the log is trimmed to MvccLimits.eventsRetainedMax). */
  readonly eventCount: number;
}

export const FRESH_META: ShardMeta = Object.freeze({
  appliedIndex: 0,
  appliedTerm: 0,
  confState: Object.freeze({ voters: [], learners: [] }),
  compactRevision: 0,
  lastNowMs: 0,
  eventCount: 0,
});

export function encodeMeta(meta: ShardMeta): Uint8Array {
  const writer = new ByteWriter(64);
  writer.u8(STATE_FORMAT_VERSION);
  writer.uvarint(meta.appliedIndex);
  writer.uvarint(meta.appliedTerm);
  writer.uvarint(meta.compactRevision);
  writer.uvarint(meta.lastNowMs);
  writer.uvarint(meta.eventCount);
  writer.uvarint(meta.confState.voters.length);
  for (const id of meta.confState.voters) writer.uvarint(id);
  writer.uvarint(meta.confState.learners.length);
  for (const id of meta.confState.learners) writer.uvarint(id);
  return writer.finish();
}

export function decodeMeta(bytes: Uint8Array): ShardMeta {
  const reader = new ByteReader(bytes, "shard meta");
  const version = reader.u8();
  if (version !== STATE_FORMAT_VERSION) {
    throw new Error(`Cannot open shard: state format version ${version}, this build reads ${STATE_FORMAT_VERSION}`);
  }
  const appliedIndex = reader.uvarint();
  const appliedTerm = reader.uvarint();
  const compactRevision = reader.uvarint();
  const lastNowMs = reader.uvarint();
  const eventCount = reader.uvarint();
  const voters: number[] = [];
  for (let n = reader.uvarint(); n > 0; n--) voters.push(reader.uvarint());
  const learners: number[] = [];
  for (let n = reader.uvarint(); n > 0; n--) learners.push(reader.uvarint());
  reader.end();
  return { appliedIndex, appliedTerm, confState: { voters, learners }, compactRevision, lastNowMs, eventCount };
}
