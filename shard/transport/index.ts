// shard/transport: the peer transport between nodes over gRPC. Other folders import only this file.
export { Backoff } from "./backoff.js";
export { resolveLimits, TRANSPORT_DEFAULTS, TransportLimitError, type TransportLimits } from "./limits.js";
export { PeerProtocolError } from "./peer_protocol_error.js";
export type { PeerServiceStats } from "./peer_service.js";
export type { PeerStreamStats } from "./peer_stream.js";
export { type PeerServerService, PeerTransport, type PeerTransportOptions, type TransportStats } from "./peer_transport.js";
export type { TransportHost } from "./transport_host.js";
