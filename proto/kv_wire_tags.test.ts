// The codec's tags against the descriptors proto-loader loads from our etcd .proto files: each
// message's every field, with its number and the wire type of its type, and no other.

import { describe, expect, it } from "vitest";
import * as tags from "./kv_wire_tags.js";
import { LEN, VARINT } from "./wire_format.js";
import { etcd } from "./test_kv_messages.js";

interface FieldDescriptor {
  readonly name: string;
  readonly number: number;
  readonly type: string;
}

const WIRE_TYPE_OF: Readonly<Record<string, number>> = {
  TYPE_INT64: VARINT,
  TYPE_UINT64: VARINT,
  TYPE_INT32: VARINT,
  TYPE_BOOL: VARINT,
  TYPE_ENUM: VARINT,
  TYPE_BYTES: LEN,
  TYPE_STRING: LEN,
  TYPE_MESSAGE: LEN,
};

function fieldsOf(fullName: string): readonly FieldDescriptor[] {
  const definition = etcd.packageDefinition[fullName];
  if (definition === undefined || !("format" in definition)) throw new Error(`No message ${fullName}`);
  // Safe: a message's descriptor (DescriptorProto) lists its fields under `field`.
  return (definition.type as { readonly field: readonly FieldDescriptor[] }).field;
}

const TAGS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  "etcdserverpb.RangeRequest": tags.RangeRequestTag,
  "etcdserverpb.PutRequest": tags.PutRequestTag,
  "etcdserverpb.RangeResponse": tags.RangeResponseTag,
  "etcdserverpb.PutResponse": tags.PutResponseTag,
  "etcdserverpb.ResponseHeader": tags.ResponseHeaderTag,
  "mvccpb.KeyValue": tags.KeyValueTag,
};

describe("the KV codec's tags", () => {
  for (const [message, messageTags] of Object.entries(TAGS)) {
    it(`has every field of ${message}, each with the number and wire type of the .proto file`, () => {
      const expected = Object.fromEntries(
        fieldsOf(message).map((field) => {
          const wireType = WIRE_TYPE_OF[field.type];
          if (wireType === undefined) throw new Error(`${message}.${field.name} has type ${field.type}, which the codec does not write`);
          return [field.name, (field.number << 3) | wireType];
        }),
      );
      expect(messageTags).toStrictEqual(expected);
    });
  }
});
