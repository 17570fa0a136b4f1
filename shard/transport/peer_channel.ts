// The gRPC clients one node keeps for a peer: one channel for the Raft stream and a separate one for
// snapshots, so that a snapshot of many megabytes, with its own TCP connection and flow-control
// windows, never holds back the heartbeats behind it (etcd sends snapshots on their own connection
// for the same reason). grpc-js's own reconnect backoff follows ours, so that a call made when our
// backoff ends does not meet a channel still sitting out a longer one of its own.

import * as grpc from "@grpc/grpc-js";
import type { TransportLimits } from "./limits.js";
import { type PeerClient, peerService } from "./peer_definition.js";

export function channelOptions(limits: TransportLimits): grpc.ChannelOptions {
  return {
    "grpc.max_send_message_length": limits.messageBytesMax,
    "grpc.max_receive_message_length": limits.messageBytesMax,
    "grpc.initial_reconnect_backoff_ms": limits.reconnectBackoffInitialMs,
    "grpc.max_reconnect_backoff_ms": limits.reconnectBackoffMaxMs,
    "grpc.keepalive_time_ms": limits.keepaliveIntervalMs,
    "grpc.keepalive_timeout_ms": limits.keepaliveTimeoutMs,
    "grpc.keepalive_permit_without_calls": 1,
    // No channelz: nothing reads it, and it tracks every call and message (router/node.ts).
    "grpc.enable_channelz": 0,
  };
}

export interface PeerClients {
  readonly raft: PeerClient;
  readonly snapshot: PeerClient;
}

export function openPeerClients(address: string, limits: TransportLimits): PeerClients {
  const { Client } = peerService();
  const credentials = grpc.credentials.createInsecure();
  const options = channelOptions(limits);
  return {
    raft: new Client(address, credentials, options),
    // A local subchannel pool keeps this channel from sharing the Raft channel's connection.
    snapshot: new Client(address, credentials, { ...options, "grpc.use_local_subchannel_pool": 1 }),
  };
}

export function closePeerClients(clients: PeerClients): void {
  clients.raft.close();
  clients.snapshot.close();
}
