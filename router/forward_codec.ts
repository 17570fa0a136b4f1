// The bytes of a forwarded operation's arguments and result (proto/shardkv/peer/v1/forward.proto):
// the router's own request and response objects as JSON, with the three kinds JSON lacks tagged:
// bytes as {"$b": base64}, 64-bit integers (lease ids, request ids) as {"$n": decimal}, and the state
// machine's refusals as {"$e": {code, message}} so that they are MvccErrors again on arrival. No key
// of the router's objects starts with "$", so the tags cannot be confused with data.
//
// JSON rather than a binary codec because forwarding is the path of a node without a replica, and
// the objects are the state machine's own (requests, ApplyResults): a new field needs no codec change.

import { MvccError, type MvccErrorCode } from "../shard/mvcc/index.js";

const MVCC_CODES: ReadonlySet<string> = new Set<MvccErrorCode>(["INVALID_ARGUMENT", "NOT_FOUND", "FAILED_PRECONDITION", "OUT_OF_RANGE", "RESOURCE_EXHAUSTED"]);

export class ForwardCodecError extends Error {
  override readonly name = "ForwardCodecError";
}

export function encodeForward(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(tag(value)));
}

export function decodeForward(bytes: Uint8Array): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"));
  } catch (error) {
    throw new ForwardCodecError(`a forwarded payload is not JSON (${(error as Error).message}); are both nodes the same version?`);
  }
  return untag(parsed);
}

function tag(value: unknown): unknown {
  if (value instanceof Uint8Array) return { $b: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64") };
  if (typeof value === "bigint") return { $n: value.toString() };
  if (value instanceof MvccError) return { $e: { code: value.code, message: value.message } };
  if (Array.isArray(value)) return value.map(tag);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    // undefined fields are dropped, as JSON drops them; the objects treat absent and undefined alike.
    for (const [key, field] of Object.entries(value)) if (field !== undefined) out[key] = tag(field);
    return out;
  }
  return value;
}

function untag(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(untag);
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  if (typeof record["$b"] === "string") return new Uint8Array(Buffer.from(record["$b"], "base64"));
  if (typeof record["$n"] === "string") return BigInt(record["$n"]);
  if (record["$e"] !== undefined) return mvccError(record["$e"]);
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(record)) out[key] = untag(field);
  return out;
}

function mvccError(raw: unknown): MvccError {
  const fields = raw as { code?: unknown; message?: unknown };
  if (typeof fields.code !== "string" || !MVCC_CODES.has(fields.code) || typeof fields.message !== "string") {
    throw new ForwardCodecError(`a forwarded error is malformed: ${JSON.stringify(raw)}`);
  }
  return new MvccError(fields.code as MvccErrorCode, fields.message);
}
