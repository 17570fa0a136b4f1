// For the KV codec's tests only: the reference, proto-loader's own (de)serializers over our etcd .proto
// files (protobufjs reflection, loaded by proto/load.ts with its options), and fast-check arbitraries:
// requests as any client may write them, responses in every shape a handler may return (a field
// missing, undefined, null or set; int64 as the decimal strings etcd_convert.ts writes, and now and
// then as numbers, bigints and odd strings, which proto-loader's fromObject takes too).

import fc from "fast-check";
import type * as protoLoader from "@grpc/proto-loader";
import type * as t from "./etcd_types.js";
import { kvServerDefinition } from "./kv_server_definition.js";
import { loadEtcdApi } from "./load.js";
import type { Writable } from "./wire_types.js";

export const etcd = loadEtcdApi();
/** proto-loader's definition: what served Range and Put before, and what clients still use. */
export const reference = etcd.KV.definition;
/** The definition the node serves. */
export const served = kvServerDefinition(etcd.KV);

export interface LooseMessage {
  serialize(value: object): Buffer;
  deserialize(bytes: Buffer): unknown;
}

/**
 * A message's reflection (de)serializers with loose types: some tests write what the Writable types
 * keep out (an enum number with no name, an int64 as a number or a bigint).
 */
export function reflection(fullName: string): LooseMessage {
  const definition = etcd.packageDefinition[fullName];
  if (definition === undefined || !("format" in definition) || definition.format !== "Protocol Buffer 3 DescriptorProto") {
    throw new Error(`No message ${fullName} in the etcd .proto files`);
  }
  // Safe: a DescriptorProto entry of proto-loader's package definition is a message type definition.
  const message = definition as protoLoader.MessageTypeDefinition<object, unknown>;
  return { serialize: (value) => message.serialize(value), deserialize: (bytes) => message.deserialize(bytes) };
}

export const b = (text: string): Buffer => Buffer.from(text);
/** Every byte value once: a key no text encoding would survive. */
export const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
export const UINT64_MAX = 2n ** 64n - 1n;

/** Where varint and number conversions break: 2^7, 2^31, 2^32, 2^53 and 2^63, each side. */
const EDGES: readonly bigint[] = [0n, 1n, 127n, 128n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, INT64_MAX];
const NEGATIVE_EDGES: readonly bigint[] = [-1n, -128n, -(2n ** 31n), -(2n ** 32n), -(2n ** 53n) - 1n, INT64_MIN];

export const int64 = fc
  .oneof(fc.bigInt({ min: 0n, max: 10_000_000n }), fc.constantFrom(...EDGES, ...NEGATIVE_EDGES), fc.bigInt({ min: INT64_MIN, max: INT64_MAX }))
  .map(String);
export const uint64 = fc.oneof(fc.bigInt({ min: 0n, max: 10_000_000n }), fc.constantFrom(...EDGES, 2n ** 63n, UINT64_MAX), fc.bigInt({ min: 0n, max: UINT64_MAX })).map(String);
export const bytes = fc.oneof(fc.uint8Array({ maxLength: 24 }), fc.constant(new Uint8Array(0)), fc.constant(binary)).map((u) => Buffer.from(u));
/** Known values mostly, then any int32: proto3 enums are open. */
export const enumNumber = fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));

/** Requests as a client's encoder is given them; a field left out is absent from the bytes. */
export const rangeRequestObject = fc.record(
  {
    key: bytes,
    range_end: bytes,
    limit: int64,
    revision: int64,
    sort_order: enumNumber,
    sort_target: enumNumber,
    serializable: fc.boolean(),
    keys_only: fc.boolean(),
    count_only: fc.boolean(),
    min_mod_revision: int64,
    max_mod_revision: int64,
    min_create_revision: int64,
    max_create_revision: int64,
  },
  { requiredKeys: [] },
);

export const putRequestObject = fc.record(
  { key: bytes, value: bytes, lease: int64, prev_kv: fc.boolean(), ignore_value: fc.boolean(), ignore_lease: fc.boolean() },
  { requiredKeys: [] },
);

/** What long.js makes of odd int64 inputs, some of them errors: the new encoder must agree on each. */
export const ODD_INT64_INPUTS: readonly (string | number | bigint)[] = [
  " 5", "+5", "1e3", "0x10", "12abc", "NaN", "Infinity", "-0", "007", "", "-", "--5", "1-2",
  "18446744073709551616", "99999999999999999999999", "-99999999999999999999",
  -1, -0, 1.5, -2.5, 2 ** 53, 2 ** 64, -(2 ** 64), Number.NaN, Number.POSITIVE_INFINITY,
  0n, -1n, 2n ** 63n, 2n ** 64n + 3n, -(2n ** 70n),
];

const looseInt64 = (digits: fc.Arbitrary<string>): fc.Arbitrary<unknown> =>
  fc.oneof(
    { arbitrary: digits, weight: 12 },
    { arbitrary: fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), weight: 1 },
    { arbitrary: fc.double(), weight: 1 },
    { arbitrary: fc.bigInt({ min: -(2n ** 65n), max: 2n ** 65n }), weight: 1 },
    { arbitrary: fc.constantFrom(...ODD_INT64_INPUTS), weight: 1 },
  );

const ABSENT = Symbol("absent");

/** An object whose every field is, independently, missing, undefined, null or given a value. */
function shape(fields: Readonly<Record<string, fc.Arbitrary<unknown>>>): fc.Arbitrary<Record<string, unknown>> {
  const slots = Object.fromEntries(
    Object.entries(fields).map(([name, value]) => [
      name,
      fc.oneof({ arbitrary: value, weight: 6 }, fc.constant(ABSENT), fc.constant(undefined), fc.constant(null)),
    ]),
  );
  return fc.record(slots).map((object) => Object.fromEntries(Object.entries(object).filter(([, value]) => value !== ABSENT)));
}

/** Buffers, as etcd_convert.ts passes on from the store, and plain Uint8Arrays. */
const responseBytes = fc.oneof(bytes, bytes.map((buffer) => new Uint8Array(buffer)));

const keyValueShape = shape({
  key: responseBytes,
  create_revision: looseInt64(int64),
  mod_revision: looseInt64(int64),
  version: looseInt64(int64),
  value: responseBytes,
  lease: looseInt64(int64),
});

const headerShape = shape({
  cluster_id: looseInt64(uint64),
  member_id: looseInt64(uint64),
  revision: looseInt64(int64),
  raft_term: looseInt64(uint64),
});

/*
 * The shapes hold what the Writable types keep out (undefined under exactOptionalPropertyTypes,
 * numbers and bigints for int64), all of which proto-loader's fromObject takes: the casts say so.
 */

export const rangeResponseShape: fc.Arbitrary<Writable<t.RangeResponse>> = shape({
  header: headerShape,
  kvs: fc.array(keyValueShape, { maxLength: 6 }),
  more: fc.boolean(),
  count: looseInt64(int64),
}).map((object) => object as Writable<t.RangeResponse>);

export const putResponseShape: fc.Arbitrary<Writable<t.PutResponse>> = shape({ header: headerShape, prev_kv: keyValueShape }).map(
  (object) => object as Writable<t.PutResponse>,
);

/** The outcome of a call that may throw, to compare two encoders that must fail alike. */
export type Outcome = { readonly ok: true; readonly bytes: Buffer } | { readonly ok: false; readonly error: unknown };

export function attempt(encode: () => Buffer): Outcome {
  try {
    return { ok: true, bytes: encode() };
  } catch (error) {
    return { ok: false, error };
  }
}
