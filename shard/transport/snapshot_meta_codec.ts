// A snapshot's metadata (raft/types.ts SnapshotMeta) to and from the peer API's SnapshotMeta, for the
// Peer.Snapshot call's header, which goes through proto-loader's encoder (Peer.Raft has a codec of
// its own: raft_batch_encoder.ts). Missing metadata or membership is a PeerProtocolError: it came
// off the wire.

import type { peer, Writable } from "../../proto/index.js";
import type { SnapshotMeta } from "../../raft/index.js";
import { PeerProtocolError } from "./peer_protocol_error.js";

export function encodeMeta(meta: SnapshotMeta): Writable<peer.SnapshotMeta> {
  return { index: meta.index, term: meta.term, confState: { voters: meta.confState.voters, learners: meta.confState.learners } };
}

export function decodeMeta(meta: peer.SnapshotMeta | null): SnapshotMeta {
  if (meta === null) throw new PeerProtocolError("Cannot read a snapshot without its metadata (index, term, membership)");
  if (meta.confState === null) throw new PeerProtocolError(`Cannot read the snapshot at index ${meta.index}: it has no membership (confState)`);
  return { index: meta.index, term: meta.term, confState: { voters: [...meta.confState.voters], learners: [...meta.confState.learners] } };
}
