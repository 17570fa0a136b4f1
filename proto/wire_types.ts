// How protobuf values look in TypeScript under our loader options (proto/load.ts), and the
// `Writable` form that the encoder accepts. Types only, shared by the etcd and the peer messages.

/**
 * A protobuf int64 as proto-loader decodes it with `longs: String`: a decimal string such as
 * "-1" or "7587862110034735136". Lease ids are random 63-bit numbers and do not fit a JS number;
 * convert with BigInt(value) where arithmetic is needed, and write back with String(bigint).
 */
export type Int64 = string;

/** A protobuf uint64 (member and cluster ids, Raft terms in etcd's messages): as Int64. */
export type Uint64 = string;

declare const unknownEnumValue: unique symbol;

/**
 * A number a peer sent for an enum field that this version does not know. proto3 enums are open:
 * the decoder passes any int32 through, so a `switch` over a decoded enum must keep a branch for
 * this (answer InvalidArgument), never assume the known values are all there is.
 */
export type UnknownEnumValue = number & { readonly [unknownEnumValue]: true };

/** The decoded type of an enum field, given the enum's `{ NAME: number }` constant object. */
export type EnumOf<E extends Readonly<Record<string, number>>> = E[keyof E] | UnknownEnumValue;

/**
 * What the encoder (protobufjs `fromObject`, behind proto-loader's serializers) accepts for a
 * decoded type T: every field optional or null (left out, it encodes as the proto3 default),
 * bytes as any Uint8Array, enums limited to their known values. Int64 stays a decimal string
 * here too, so that no 64-bit value passes through a JS number by accident.
 */
export type Writable<T> = T extends Buffer
  ? Uint8Array
  : T extends UnknownEnumValue
    ? never
    : T extends readonly (infer E)[]
      ? readonly Writable<E>[]
      : T extends object
        ? { readonly [K in keyof T]?: Writable<T[K]> | null }
        : T;
