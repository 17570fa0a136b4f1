// proto/: the .proto files and their typed loaders. Other folders import only this file.
export * from "./etcd_services.js";
export * from "./etcd_types.js";
export * from "./load.js";
// The KV definition the client API server registers: Range and Put through the hand-written codec.
export { type KvMethods, kvServerDefinition } from "./kv_server_definition.js";
// The peer messages share names with raft/types.ts (Entry, Snapshot, ConfState): keep them apart.
export * as peer from "./peer_types.js";
export { type ForwardSpec, forwardSpec, type PeerSpec, peerSpec } from "./peer_types.js";
export * from "./service_types.js";
export * from "./wire_types.js";
// Our own client API's messages share names with etcd's (KeyValue, PutRequest): a namespace keeps them apart.
export * as shardkv from "./shardkv_types.js";
export * from "./shardkv_services.js";
// The wire format of the hand-written codecs (tags, bounded field reads): a namespace, its names are short.
export * as wire from "./wire_format.js";
