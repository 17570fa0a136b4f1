// The Raft core's public face: other folders import from here only.
export { assert, RaftInvariantError } from "./assert.js";
export { bootstrapEntries } from "./bootstrap.js";
export { type RaftConfig, type RaftOptions, RaftConfigError, defaultRaftConfig, resolveConfig } from "./config.js";
export { type Configuration, configurationOf, decodeConfChange, encodeConfChange, isVoter } from "./membership.js";
export { MemoryStorage } from "./memory_storage.js";
export type { DropReason, ProposeResult, ReadResult } from "./proposal.js";
export { Raft } from "./raft.js";
export { RawNode, type RaftStatus, type Ready } from "./raw_node.js";
export { type RandomSource, SeededRandom } from "./random.js";
export { type LogStorage, LogCompactedError, SnapshotTemporarilyUnavailableError, entryBytes } from "./storage.js";
export * from "./types.js";
