// Quiescence: an idle group stops ticking, so a node hosting thousands of groups pays nothing for
// those with no traffic (CockroachDB's quiesced ranges, TiKV's hibernate regions). A leader whose
// every member holds its whole log, committed and applied, with no read, transfer or proposal under
// way, sends a last heartbeat marked `quiesce` and stops; a follower that holds everything it names
// stops too, without answering. Any other message, proposal or read wakes a replica. What a quiesced
// replica can no longer notice by itself (its leader's node died) the driver must tell it: wake().
//
// Why this is safe (the driver may stop ticking any replica at any time; Raft never relies on time for
// its logs, only for elections and the lease):
// - Followers: a replica that does not tick neither campaigns nor forgets its leader, so it refuses
//   votes for longer than an election timeout after hearing from it (Raft.step): slower clocks only
//   make the leader lease (§6.4.1) more conservative.
// - The leader: its lease is counted in its own ticks, which stop while it is quiet, so the lease
//   would stretch over real time in which others may have elected a new leader. Quiescing therefore
//   voids the lease: only a heartbeat round sent after the leader woke (leaseMinRound) renews it, and
//   that round's ticks are counted while awake. A quiesced leader serves no lease read without a
//   fresh quorum contact.
// - CheckQuorum: a woken leader starts a fresh election timeout in which a quorum must answer again.
// Liveness: a follower woken by anything but its leader tells the leader (an empty heartbeat answer,
// which wakes it), so one woken member does not leave a silent leader to be voted out needlessly.

import { type Raft } from "./raft.js";
import { NONE, type NodeId } from "./types.js";

/**
 * Leader: whether the group is idle and every member caught up, so that it may go quiet. Every voter
 * must have acknowledged the last heartbeat round: then no answer to an older heartbeat is still on
 * its way to wake the leader right after it quiesced (a duplicate can; it only costs one wake).
 */
export function canQuiesce(r: Raft): boolean {
  if (r.role !== "leader" || r.quiesced || r.leadTransferee !== NONE || r.appendsWanted) return false;
  const last = r.log.lastIndex();
  if (r.log.committed !== last || r.log.applied !== last || !r.committedEntryInCurrentTerm()) return false;
  if (r.reads.pendingCount > 0 || r.reads.roundWanted || r.readsAwaitingTermCommit.length > 0) return false;
  const round = r.reads.lastRound();
  for (const [id, pr] of r.progress) {
    // The leader's own match is what it has persisted.
    if (pr.match !== last) return false;
    if (id === r.id) continue;
    if (pr.state !== "replicate") return false;
    if (!pr.isLearner && r.reads.ackedRound(id) !== round) return false;
  }
  return true;
}

/** Leader: goes quiet if canQuiesce; returns whether it did. */
export function quiesce(r: Raft): boolean {
  if (!canQuiesce(r)) return false;
  const round = r.reads.lastRound();
  const commit = r.log.committed;
  for (const id of r.progress.keys()) {
    if (id !== r.id) r.send({ type: "heartbeat", from: r.id, to: id, term: r.term, commit, round, quiesce: true });
  }
  r.quiesced = true;
  // The lease's ticks stop now: only a round sent after waking may confirm the lease again.
  r.leaseMinRound = round + 1;
  return true;
}

/**
 * Follower: the leader went quiet. Stop too if we hold exactly what it committed and know it as our
 * leader; otherwise answer as to any heartbeat, which wakes the leader to bring us up to date.
 * Returns whether we quiesced (and so must not answer).
 */
export function followQuiesce(r: Raft, from: NodeId, commit: number): boolean {
  if (r.role !== "follower" || r.lead !== from || r.log.lastIndex() !== commit || r.log.committed !== commit) return false;
  r.quiesced = true;
  return true;
}

/**
 * Wakes a quiesced replica (a no-op otherwise). `cause` is the replica whose message woke it, or NONE
 * when the driver or a local request did.
 */
export function wake(r: Raft, cause: NodeId): void {
  if (!r.quiesced) return;
  r.quiesced = false;
  if (r.role === "leader") {
    // The quiet time proves nothing about the followers: CheckQuorum starts a fresh election timeout,
    // in which a quorum must answer the heartbeats that resume at the next tick.
    r.electionElapsed = 0;
    for (const [id, pr] of r.progress) pr.recentActive = id === r.id;
  } else if (r.lead !== NONE && cause !== r.lead) {
    // The leader is still quiet: wake it, or it stays silent and we would vote it out.
    r.send({ type: "heartbeatResp", from: r.id, to: r.lead, term: r.term, round: 0 });
  }
}
