// The tags (field number << 3 | wire type) of the etcd KV messages that proto/kv_request_decoder.ts
// and proto/kv_response_encoder.ts read and write by hand: RangeRequest, PutRequest, RangeResponse,
// PutResponse, ResponseHeader and mvccpb.KeyValue. Change them only with the .proto files under
// proto/etcd/api; kv_wire_tags.test.ts checks each against the loaded descriptors. A tag the decoder
// does not match, a known field number with another wire type included, is skipped as unknown.

import { fieldTag as tag, LEN, VARINT } from "./wire_format.js";

export const RangeRequestTag = {
  key: tag(1, LEN),
  range_end: tag(2, LEN),
  limit: tag(3, VARINT),
  revision: tag(4, VARINT),
  sort_order: tag(5, VARINT),
  sort_target: tag(6, VARINT),
  serializable: tag(7, VARINT),
  keys_only: tag(8, VARINT),
  count_only: tag(9, VARINT),
  min_mod_revision: tag(10, VARINT),
  max_mod_revision: tag(11, VARINT),
  min_create_revision: tag(12, VARINT),
  max_create_revision: tag(13, VARINT),
} as const;

export const PutRequestTag = {
  key: tag(1, LEN),
  value: tag(2, LEN),
  lease: tag(3, VARINT),
  prev_kv: tag(4, VARINT),
  ignore_value: tag(5, VARINT),
  ignore_lease: tag(6, VARINT),
} as const;

export const RangeResponseTag = { header: tag(1, LEN), kvs: tag(2, LEN), more: tag(3, VARINT), count: tag(4, VARINT) } as const;

export const PutResponseTag = { header: tag(1, LEN), prev_kv: tag(2, LEN) } as const;

export const ResponseHeaderTag = {
  cluster_id: tag(1, VARINT),
  member_id: tag(2, VARINT),
  revision: tag(3, VARINT),
  raft_term: tag(4, VARINT),
} as const;

export const KeyValueTag = {
  key: tag(1, LEN),
  create_revision: tag(2, VARINT),
  mod_revision: tag(3, VARINT),
  version: tag(4, VARINT),
  value: tag(5, LEN),
  lease: tag(6, VARINT),
} as const;
