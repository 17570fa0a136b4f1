// The Peer service as this transport speaks it: proto-loader's definition with Peer.Raft's four
// (de)serializers replaced by the hand-written RaftBatch codec, which goes straight between
// raft/types.ts messages and bytes; Peer.Snapshot stays proto-loader's. The bytes are peer.proto's
// either way, so a node on the reflection path reads ours and we read its. The server and the
// clients both use `peerService()`; `peerApi()` is proto-loader's own, the codec tests' reference.

import * as grpc from "@grpc/grpc-js";
import {
  bidiStream,
  loadPeerApi,
  type PeerApi,
  peerSpec,
  serviceSpec,
  type TypedClient,
  type TypedClientConstructor,
  type TypedServiceDefinition,
} from "../../proto/index.js";
import type { DecodedRaftBatch, RaftBatch } from "./raft_batch.js";
import { decodeRaftBatch } from "./raft_batch_decoder.js";
import { encodeRaftBatch } from "./raft_batch_encoder.js";

/** Peer.Raft writes RaftBatches of raft messages and reads them decoded, an unreadable batch or message included. */
export const peerTransportSpec = serviceSpec(peerSpec.name, {
  Raft: bidiStream<DecodedRaftBatch, DecodedRaftBatch, RaftBatch, RaftBatch>(),
  Snapshot: peerSpec.methods.Snapshot,
});

export type PeerTransportMethods = (typeof peerTransportSpec)["methods"];
export type PeerClient = TypedClient<PeerTransportMethods>;

export interface PeerDefinition {
  readonly definition: TypedServiceDefinition<PeerTransportMethods>;
  readonly Client: TypedClientConstructor<PeerTransportMethods>;
}

let api: PeerApi | undefined;
let service: PeerDefinition | undefined;

/** The peer API as proto-loader loads it, once per process (it reads and parses the .proto file). */
export function peerApi(): PeerApi {
  api ??= loadPeerApi();
  return api;
}

/** The Peer service with the RaftBatch codec, built once per process. */
export function peerService(): PeerDefinition {
  service ??= withRaftCodec(peerApi().Peer);
  return service;
}

function withRaftCodec(loaded: PeerApi["Peer"]): PeerDefinition {
  const { Raft, Snapshot } = loaded.definition;
  const definition: TypedServiceDefinition<PeerTransportMethods> = {
    Raft: {
      ...Raft,
      requestSerialize: encodeRaftBatch,
      requestDeserialize: decodeRaftBatch,
      responseSerialize: encodeRaftBatch,
      responseDeserialize: decodeRaftBatch,
    },
    Snapshot,
  };
  // Safe: grpc-js makes one client method per entry of the definition, with that entry's
  // (de)serializers and streaming flags, which are the spec's.
  const Client = grpc.makeClientConstructor(definition, "Peer") as unknown as TypedClientConstructor<PeerTransportMethods>;
  return { definition, Client };
}
