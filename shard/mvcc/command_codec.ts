// The binary form of a Command inside a Raft entry. Byte 0 is the format version (1), byte 1 the
// op, then the header (nowMs varint, requestId u64) and the op's fields: varints, length-prefixed
// bytes, flag bytes for optional fields. Decoding returns views into the entry's bytes (no copies)
// and throws MvccError INVALID_ARGUMENT on anything malformed, so apply can answer garbage
// deterministically. Optional booleans travel as set-or-absent: false decodes as absent.

import { ByteReader, ByteWriter, uvarintBytes } from "./wire.js";
import { invalidArgument } from "./errors.js";
import type { Command, CommandHeader, CommandOp } from "./command.js";
import type {
  Compare,
  CompareResult,
  CompareTarget,
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  SortOrder,
  SortTarget,
  TxnRequest,
} from "./requests.js";

export const COMMAND_FORMAT_VERSION = 1;
/** Deeper nesting than this is refused on decode, so that garbage cannot overflow the stack. */
const TXN_DEPTH_MAX = 32;

const OP_CODES: Record<CommandOp, number> = {
  put: 1,
  deleteRange: 2,
  txn: 3,
  compact: 4,
  leaseGrant: 5,
  leaseRevoke: 6,
  expireKeys: 7,
  purgeTombstones: 8,
};
const COMPARE_TARGETS: readonly CompareTarget[] = ["version", "create", "mod", "value", "lease"];
const COMPARE_RESULTS: readonly CompareResult[] = ["equal", "notEqual", "less", "greater"];
const SORT_ORDERS: readonly SortOrder[] = ["none", "ascend", "descend"];
const SORT_TARGETS: readonly SortTarget[] = ["key", "version", "create", "mod", "value"];

const PUT_PREV_KV = 1;
const PUT_IGNORE_VALUE = 2;
const PUT_IGNORE_LEASE = 4;
const PUT_HAS_LEASE = 8;
const PUT_HAS_TTL = 16;

export function encodeCommand(command: Command): Uint8Array {
  const writer = new ByteWriter(command.op === "put" ? putCommandBytes(command.header.nowMs, command.put) : 256);
  writer.u8(COMMAND_FORMAT_VERSION);
  writer.u8(OP_CODES[command.op]);
  writer.uvarint(command.header.nowMs);
  writer.u64(command.header.requestId);
  switch (command.op) {
    case "put":
      writePut(writer, command.put);
      break;
    case "deleteRange":
      writeDeleteRange(writer, command.deleteRange);
      break;
    case "txn":
      writeTxn(writer, command.txn);
      break;
    case "compact":
      writer.svarint(command.revision);
      break;
    case "leaseGrant":
      writer.u64(command.id);
      writer.svarint(command.ttlSeconds);
      break;
    case "leaseRevoke":
      writer.u64(command.id);
      break;
    case "expireKeys":
      writer.uvarint(command.keys.length);
      for (const key of command.keys) writer.bytes(key);
      break;
    case "purgeTombstones":
      writer.svarint(command.beforeRevision);
      break;
    default:
      throw invalidArgument(`Cannot encode a command with op ${JSON.stringify((command as { op: unknown }).op)}`);
  }
  return writer.finish();
}

export function decodeCommand(data: Uint8Array): Command {
  const reader = new ByteReader(data, "command");
  const version = reader.u8();
  if (version !== COMMAND_FORMAT_VERSION) {
    throw invalidArgument(`Cannot decode command: format version ${version}, this build reads ${COMMAND_FORMAT_VERSION}`);
  }
  const op = reader.u8();
  const header: CommandHeader = { nowMs: reader.uvarint(), requestId: reader.u64() };
  const command = readBody(reader, op, header);
  reader.end();
  return command;
}

/**
 * The command's bytes with its header's nowMs replaced: what a leader does to a proposal a follower
 * forwarded, so that every TTL and expiry is decided on the leader's clock, not on whichever node's
 * clock the client reached. Bytes that are not a command of this format come back unchanged (apply
 * refuses them, as it would have).
 */
export function restampCommand(data: Uint8Array, nowMs: number): Uint8Array {
  if (data.length < 3 || data[0] !== COMMAND_FORMAT_VERSION) return data;
  const reader = new ByteReader(data, "command");
  let end: number;
  try {
    reader.u8();
    reader.u8();
    reader.uvarint();
    end = reader.offset;
  } catch {
    return data;
  }
  const writer = new ByteWriter(data.length - (end - 2) + uvarintBytes(nowMs));
  writer.raw(data.subarray(0, 2));
  writer.uvarint(nowMs);
  writer.raw(data.subarray(end));
  return writer.finish();
}

function readBody(reader: ByteReader, op: number, header: CommandHeader): Command {
  switch (op) {
    case 1:
      return { header, op: "put", put: readPut(reader) };
    case 2:
      return { header, op: "deleteRange", deleteRange: readDeleteRange(reader) };
    case 3:
      return { header, op: "txn", txn: readTxn(reader, 0) };
    case 4:
      return { header, op: "compact", revision: reader.svarint() };
    case 5:
      return { header, op: "leaseGrant", id: reader.i64(), ttlSeconds: reader.svarint() };
    case 6:
      return { header, op: "leaseRevoke", id: reader.i64() };
    case 7: {
      const count = readCount(reader);
      const keys: Uint8Array[] = [];
      for (let i = 0; i < count; i++) keys.push(reader.bytes());
      return { header, op: "expireKeys", keys };
    }
    case 8:
      return { header, op: "purgeTombstones", beforeRevision: reader.svarint() };
    default:
      throw invalidArgument(`Cannot decode command: unknown op code ${op}`);
  }
}

/** A plain put's exact size (a put with a TTL is sized from above), so the proposal's bytes are not a view. */
function putCommandBytes(nowMs: number, put: PutRequest): number {
  const header = 2 + uvarintBytes(nowMs) + 8;
  const body = 1 + uvarintBytes(put.key.length) + put.key.length + uvarintBytes(put.value.length) + put.value.length;
  return header + body + (put.lease !== undefined ? 8 : 0) + (put.ttlMs !== undefined ? 10 : 0);
}

function writePut(writer: ByteWriter, put: PutRequest): void {
  let flags = 0;
  if (put.prevKv === true) flags |= PUT_PREV_KV;
  if (put.ignoreValue === true) flags |= PUT_IGNORE_VALUE;
  if (put.ignoreLease === true) flags |= PUT_IGNORE_LEASE;
  if (put.lease !== undefined) flags |= PUT_HAS_LEASE;
  if (put.ttlMs !== undefined) flags |= PUT_HAS_TTL;
  writer.u8(flags);
  writer.bytes(put.key);
  writer.bytes(put.value);
  if (put.lease !== undefined) writer.u64(put.lease);
  if (put.ttlMs !== undefined) writer.svarint(put.ttlMs);
}

function readPut(reader: ByteReader): PutRequest {
  const flags = reader.u8();
  const key = reader.bytes();
  const value = reader.bytes();
  // Built in one shape for the common case: V8 keeps one hidden class for plain puts.
  if ((flags & ~PUT_PREV_KV) === 0) return flags === 0 ? { key, value } : { key, value, prevKv: true };
  const put: { -readonly [K in keyof PutRequest]: PutRequest[K] } = { key, value };
  if (flags & PUT_PREV_KV) put.prevKv = true;
  if (flags & PUT_IGNORE_VALUE) put.ignoreValue = true;
  if (flags & PUT_IGNORE_LEASE) put.ignoreLease = true;
  if (flags & PUT_HAS_LEASE) put.lease = reader.i64();
  if (flags & PUT_HAS_TTL) put.ttlMs = reader.svarint();
  return put;
}

const RANGE_HAS_END = 1;
const RANGE_KEYS_ONLY = 2;
const RANGE_COUNT_ONLY = 4;
const RANGE_HAS_LIMIT = 8;
const RANGE_HAS_REVISION = 16;
const RANGE_HAS_SORT_ORDER = 32;
const RANGE_HAS_SORT_TARGET = 64;
const RANGE_HAS_MIN_MOD = 1;
const RANGE_HAS_MAX_MOD = 2;
const RANGE_HAS_MIN_CREATE = 4;
const RANGE_HAS_MAX_CREATE = 8;

function writeRange(writer: ByteWriter, range: RangeRequest): void {
  let flags = 0;
  if (range.rangeEnd !== undefined) flags |= RANGE_HAS_END;
  if (range.keysOnly === true) flags |= RANGE_KEYS_ONLY;
  if (range.countOnly === true) flags |= RANGE_COUNT_ONLY;
  if (range.limit !== undefined) flags |= RANGE_HAS_LIMIT;
  if (range.revision !== undefined) flags |= RANGE_HAS_REVISION;
  if (range.sortOrder !== undefined) flags |= RANGE_HAS_SORT_ORDER;
  if (range.sortTarget !== undefined) flags |= RANGE_HAS_SORT_TARGET;
  let filters = 0;
  if (range.minModRevision !== undefined) filters |= RANGE_HAS_MIN_MOD;
  if (range.maxModRevision !== undefined) filters |= RANGE_HAS_MAX_MOD;
  if (range.minCreateRevision !== undefined) filters |= RANGE_HAS_MIN_CREATE;
  if (range.maxCreateRevision !== undefined) filters |= RANGE_HAS_MAX_CREATE;
  writer.u8(flags);
  writer.u8(filters);
  writer.bytes(range.key);
  if (range.rangeEnd !== undefined) writer.bytes(range.rangeEnd);
  if (range.limit !== undefined) writer.svarint(range.limit);
  if (range.revision !== undefined) writer.svarint(range.revision);
  if (range.sortOrder !== undefined) writer.u8(enumCode(SORT_ORDERS, range.sortOrder, "sortOrder"));
  if (range.sortTarget !== undefined) writer.u8(enumCode(SORT_TARGETS, range.sortTarget, "sortTarget"));
  if (range.minModRevision !== undefined) writer.svarint(range.minModRevision);
  if (range.maxModRevision !== undefined) writer.svarint(range.maxModRevision);
  if (range.minCreateRevision !== undefined) writer.svarint(range.minCreateRevision);
  if (range.maxCreateRevision !== undefined) writer.svarint(range.maxCreateRevision);
}

function readRange(reader: ByteReader): RangeRequest {
  const flags = reader.u8();
  const filters = reader.u8();
  const range: { -readonly [K in keyof RangeRequest]: RangeRequest[K] } = { key: reader.bytes() };
  if (flags & RANGE_HAS_END) range.rangeEnd = reader.bytes();
  if (flags & RANGE_KEYS_ONLY) range.keysOnly = true;
  if (flags & RANGE_COUNT_ONLY) range.countOnly = true;
  if (flags & RANGE_HAS_LIMIT) range.limit = reader.svarint();
  if (flags & RANGE_HAS_REVISION) range.revision = reader.svarint();
  if (flags & RANGE_HAS_SORT_ORDER) range.sortOrder = enumValue(SORT_ORDERS, reader.u8(), "sortOrder");
  if (flags & RANGE_HAS_SORT_TARGET) range.sortTarget = enumValue(SORT_TARGETS, reader.u8(), "sortTarget");
  if (filters & RANGE_HAS_MIN_MOD) range.minModRevision = reader.svarint();
  if (filters & RANGE_HAS_MAX_MOD) range.maxModRevision = reader.svarint();
  if (filters & RANGE_HAS_MIN_CREATE) range.minCreateRevision = reader.svarint();
  if (filters & RANGE_HAS_MAX_CREATE) range.maxCreateRevision = reader.svarint();
  return range;
}

function writeDeleteRange(writer: ByteWriter, del: DeleteRangeRequest): void {
  writer.u8((del.rangeEnd !== undefined ? 1 : 0) | (del.prevKv === true ? 2 : 0));
  writer.bytes(del.key);
  if (del.rangeEnd !== undefined) writer.bytes(del.rangeEnd);
}

function readDeleteRange(reader: ByteReader): DeleteRangeRequest {
  const flags = reader.u8();
  const del: { -readonly [K in keyof DeleteRangeRequest]: DeleteRangeRequest[K] } = { key: reader.bytes() };
  if (flags & 1) del.rangeEnd = reader.bytes();
  if (flags & 2) del.prevKv = true;
  return del;
}

const VALUE_NUMBER = 0;
const VALUE_BIGINT = 1;
const VALUE_BYTES = 2;

function writeCompare(writer: ByteWriter, compare: Compare): void {
  const kind = typeof compare.value === "number" ? VALUE_NUMBER : typeof compare.value === "bigint" ? VALUE_BIGINT : VALUE_BYTES;
  writer.u8(
    enumCode(COMPARE_TARGETS, compare.target, "compare target") |
      (enumCode(COMPARE_RESULTS, compare.result, "compare result") << 3) |
      (kind << 5) |
      (compare.rangeEnd !== undefined ? 0x80 : 0),
  );
  writer.bytes(compare.key);
  if (compare.rangeEnd !== undefined) writer.bytes(compare.rangeEnd);
  if (typeof compare.value === "number") writer.svarint(compare.value);
  else if (typeof compare.value === "bigint") writer.u64(compare.value);
  else writer.bytes(compare.value);
}

function readCompare(reader: ByteReader): Compare {
  const flags = reader.u8();
  const target = enumValue(COMPARE_TARGETS, flags & 7, "compare target");
  const result = enumValue(COMPARE_RESULTS, (flags >> 3) & 3, "compare result");
  const kind = (flags >> 5) & 3;
  const key = reader.bytes();
  const rangeEnd = flags & 0x80 ? reader.bytes() : undefined;
  let value: number | bigint | Uint8Array;
  if (kind === VALUE_NUMBER) value = reader.svarint();
  else if (kind === VALUE_BIGINT) value = reader.i64();
  else if (kind === VALUE_BYTES) value = reader.bytes();
  else throw invalidArgument(`Cannot decode command: unknown compare value kind ${kind}`);
  return rangeEnd === undefined ? { key, target, result, value } : { key, rangeEnd, target, result, value };
}

function writeTxn(writer: ByteWriter, txn: TxnRequest): void {
  writer.uvarint(txn.compare.length);
  for (const compare of txn.compare) writeCompare(writer, compare);
  writeOps(writer, txn.success);
  writeOps(writer, txn.failure);
}

function readTxn(reader: ByteReader, depth: number): TxnRequest {
  if (depth > TXN_DEPTH_MAX) throw invalidArgument(`Cannot decode command: txn nested deeper than ${TXN_DEPTH_MAX}`);
  const compareCount = readCount(reader);
  const compare: Compare[] = [];
  for (let i = 0; i < compareCount; i++) compare.push(readCompare(reader));
  const success = readOps(reader, depth);
  const failure = readOps(reader, depth);
  return { compare, success, failure };
}

function writeOps(writer: ByteWriter, ops: readonly RequestOp[]): void {
  writer.uvarint(ops.length);
  for (const op of ops) {
    if ("range" in op) {
      writer.u8(1);
      writeRange(writer, op.range);
    } else if ("put" in op) {
      writer.u8(2);
      writePut(writer, op.put);
    } else if ("deleteRange" in op) {
      writer.u8(3);
      writeDeleteRange(writer, op.deleteRange);
    } else {
      writer.u8(4);
      writeTxn(writer, op.txn);
    }
  }
}

function readOps(reader: ByteReader, depth: number): RequestOp[] {
  const count = readCount(reader);
  const ops: RequestOp[] = [];
  for (let i = 0; i < count; i++) {
    const kind = reader.u8();
    switch (kind) {
      case 1:
        ops.push({ range: readRange(reader) });
        break;
      case 2:
        ops.push({ put: readPut(reader) });
        break;
      case 3:
        ops.push({ deleteRange: readDeleteRange(reader) });
        break;
      case 4:
        ops.push({ txn: readTxn(reader, depth + 1) });
        break;
      default:
        throw invalidArgument(`Cannot decode command: unknown request op kind ${kind}`);
    }
  }
  return ops;
}

/** A count of items that each take at least one byte: more than the bytes left is garbage. */
function readCount(reader: ByteReader): number {
  const count = reader.uvarint();
  if (count > reader.remaining) {
    throw invalidArgument(`Cannot decode command: ${count} items announced, ${reader.remaining} bytes left`);
  }
  return count;
}

function enumCode<T extends string>(values: readonly T[], value: T, what: string): number {
  const code = values.indexOf(value);
  if (code < 0) throw invalidArgument(`Cannot encode ${what} ${JSON.stringify(value)}: expected one of ${values.join(", ")}`);
  return code;
}

function enumValue<T extends string>(values: readonly T[], code: number, what: string): T {
  const value = values[code];
  if (value === undefined) throw invalidArgument(`Cannot decode command: unknown ${what} code ${code}`);
  return value;
}
