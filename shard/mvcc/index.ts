// The per-shard state machine with etcd v3 semantics: what the Raft driver and the router may use.

export { MvccError, type MvccErrorCode, ETCD_ERRORS } from "./errors.js";
export { type MvccLimits, MVCC_DEFAULTS, LEASE_TTL_SECONDS_MAX } from "./limits.js";
export type * from "./requests.js";
export type { ApplyResult, Command, CommandBody, CommandHeader, CommandOp, CommandResponse } from "./command.js";
export { encodeCommand, decodeCommand, restampCommand, COMMAND_FORMAT_VERSION } from "./command_codec.js";
export { validateCommand } from "./validate.js";
export { ShardState, type ShardStateOptions } from "./shard_state.js";
export type { MvccDb, MvccSnapshot, MvccIterator, MvccBatchOp } from "./store.js";
export { KeyLayout } from "./keys.js";
export { LeaseClock } from "./lease_clock.js";
export { compareByTarget } from "./range.js";
