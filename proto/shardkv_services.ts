// shardkv's own client services as data (proto/service_types.ts): each RPC's kind and message
// types. Mirrors the `service` blocks of proto/shardkv/v1/*.proto; the loader checks the loaded
// services against these specs.

import { serviceSpec, unary } from "./service_types.js";
import type * as t from "./shardkv_types.js";

export const shardkvKvSpec = serviceSpec("shardkv.v1.KV", {
  Get: unary<t.GetRequest, t.GetResponse>(),
  Put: unary<t.PutRequest, t.PutResponse>(),
  Delete: unary<t.DeleteRequest, t.DeleteResponse>(),
  MultiGet: unary<t.MultiGetRequest, t.MultiGetResponse>(),
  MultiPut: unary<t.MultiPutRequest, t.MultiPutResponse>(),
  Increment: unary<t.IncrementRequest, t.IncrementResponse>(),
});

export const shardkvAdminSpec = serviceSpec("shardkv.v1.Admin", {
  ShardMap: unary<t.ShardMapRequest, t.ShardMapResponse>(),
});
