// etcd's KV service as the client API server registers it: proto-loader's definition with the two
// server-side functions of Range and Put replaced by the hand-written codec (kv_request_decoder.ts,
// kv_response_encoder.ts), whose objects and bytes are proto-loader's own, only cheaper to make (a
// serializable-read profile had proto-loader's serializers at ~8% of a node's CPU). DeleteRange,
// Txn and Compact stay proto-loader's, and so does the client side of every method: a client built
// from this definition or from loadEtcdApi()'s sends and reads alike.

import type { kvSpec } from "./etcd_services.js";
import { decodePutRequest, decodeRangeRequest } from "./kv_request_decoder.js";
import { encodePutResponse, encodeRangeResponse } from "./kv_response_encoder.js";
import type { EtcdApi } from "./load.js";
import type { TypedServiceDefinition } from "./service_types.js";

export type KvMethods = (typeof kvSpec)["methods"];

/** The KV definition to serve; `kv` is loadEtcdApi()'s, left as it is. */
export function kvServerDefinition(kv: EtcdApi["KV"]): TypedServiceDefinition<KvMethods> {
  const { Range, Put } = kv.definition;
  return {
    ...kv.definition,
    Range: { ...Range, requestDeserialize: decodeRangeRequest, responseSerialize: encodeRangeResponse },
    Put: { ...Put, requestDeserialize: decodePutRequest, responseSerialize: encodePutResponse },
  };
}
