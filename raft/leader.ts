// The leader's half of Raft: replicating the log (probe, pipelined replicate, snapshots), learning
// what followers hold, heartbeat rounds that confirm leadership for reads, the lease, and handing
// leadership over. Functions of the Raft they are given; the rules a test may want to break are
// methods on Raft (maybeCommit, leaseTicks, ...), so that a subclass can replace them.

import { LogCompactedError, SnapshotTemporarilyUnavailableError, entryBytes } from "./storage.js";
import { isMember, isVoter } from "./membership.js";
import { quorumSize } from "./quorum.js";
import { Progress } from "./progress.js";
import { leaderPropose } from "./proposal.js";
import type { Raft } from "./raft.js";
import { type Entry, type Message, type MsgAppResp, type MsgHeartbeatResp, NONE, type NodeId } from "./types.js";

/** Leader only: one Progress per member, no more; fresh lease acknowledgements after a change. */
export function syncProgressWithConfiguration(r: Raft): void {
  const config = r.configs.current();
  const next = r.log.lastIndex() + 1;
  for (const id of [...config.voters, ...config.learners]) {
    const learner = !isVoter(config, id);
    const pr = r.progress.get(id);
    if (pr === undefined) {
      const fresh = new Progress(next, learner, r.config.inflightMessagesMax, r.config.inflightBytesMax);
      // A new member gets an election timeout to answer before CheckQuorum counts it as silent.
      fresh.recentActive = true;
      r.progress.set(id, fresh);
    } else {
      pr.isLearner = learner;
    }
  }
  for (const id of [...r.progress.keys()]) {
    if (!isMember(config, id) && id !== r.id) r.progress.delete(id);
  }
  if (r.leadTransferee !== NONE && !isVoter(config, r.leadTransferee)) r.leadTransferee = NONE;
  r.leaseMinRound = r.reads.lastRound() + 1;
}

/** Leader only: what follows a new commit index. */
export function leaderCommitAdvanced(r: Raft): void {
  if (r.committedEntryInCurrentTerm() && r.readsAwaitingTermCommit.length > 0) {
    const waiting = r.readsAwaitingTermCommit;
    r.readsAwaitingTermCommit = [];
    for (const read of waiting) leaderRead(r, read.context, read.from, read.lease);
  }
  releaseConfirmedReads(r);
  // §4.2.2: a leader that removed itself steps down once the change is committed.
  const config = r.configs.current();
  if (!isVoter(config, r.id) && r.configs.currentIndex() <= r.log.committed) {
    let best: NodeId = NONE;
    let bestMatch = -1;
    for (const id of config.voters) {
      const match = r.progress.get(id)?.match ?? 0;
      if (match > bestMatch) [best, bestMatch] = [id, match];
    }
    if (best !== NONE && bestMatch === r.log.lastIndex()) sendTimeoutNow(r, best);
    r.appendsWanted = false;
    bcastAppend(r); // let the others learn the commit index before we fall silent
    r.becomeFollower(r.term, NONE);
  }
}

export function tickLeader(r: Raft): void {
  r.heartbeatElapsed++;
  r.electionElapsed++;
  r.leaderContactElapsed = 0;
  if (r.electionElapsed >= r.config.electionTicks) {
    r.electionElapsed = 0;
    if (r.config.checkQuorum && !quorumActive(r)) {
      // §6.2: we may be the stale side of a partition; stop acting as leader.
      r.becomeFollower(r.term, NONE);
      return;
    }
    // A transfer that did not finish within an election timeout is abandoned (§3.10).
    r.leadTransferee = NONE;
  }
  if (r.heartbeatElapsed >= r.config.heartbeatTicks) {
    r.heartbeatElapsed = 0;
    bcastHeartbeat(r);
  }
}

/** Resets every follower's activity flag and says whether a quorum was active since the last check. */
function quorumActive(r: Raft): boolean {
  const voters = r.configs.current().voters;
  let active = 0;
  for (const id of voters) {
    const pr = r.progress.get(id);
    if (id === r.id || pr?.recentActive === true) active++;
  }
  for (const [id, pr] of r.progress) pr.recentActive = id === r.id;
  return active >= quorumSize(voters.length);
}

export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case "prop": {
      const stamp = r.config.stampForwarded;
      // Only data entries: an empty one is the leader's own kind, a configuration change is Raft's.
      const entries = stamp === undefined ? m.entries : m.entries.map((e) => (e.type === "normal" && e.data.length > 0 ? { ...e, data: stamp(e.data) } : e));
      leaderPropose(r, entries);
      return;
    }
    case "readIndex":
      leaderRead(r, m.context, m.from, m.lease);
      return;
    case "transferLeader":
      transferLeadership(r, m.transferee);
      return;
    case "appResp":
      handleAppendResponse(r, m);
      return;
    case "heartbeatResp":
      handleHeartbeatResponse(r, m);
      return;
    default:
      // Vote answers from a finished election, a stale TimeoutNow, our own kind of messages: nothing to do.
      return;
  }
}

/** Sends every follower what it lacks, or an empty append that carries the commit index. */
export function bcastAppend(r: Raft): void {
  for (const id of r.progress.keys()) {
    if (id !== r.id) sendAppends(r, id, true);
  }
}

/**
 * Sends appends to `to`: in replicate state as many as the inflight window allows (pipelining),
 * in probe state one. Returns whether anything went out.
 */
export function sendAppends(r: Raft, to: NodeId, sendIfEmpty: boolean): boolean {
  let sent = false;
  for (;;) {
    const pr = r.progress.get(to);
    if (pr === undefined || pr.isPaused()) return sent;
    const prevIndex = pr.next - 1;
    const prevTerm = r.log.term(prevIndex);
    let entries: Entry[];
    try {
      if (prevTerm === undefined) throw new LogCompactedError(`term of ${prevIndex} is compacted`);
      entries = r.log.entriesFrom(pr.next, r.config.appendBytesMax);
    } catch (error) {
      if (!(error instanceof LogCompactedError)) throw error;
      return sendSnapshot(r, to) || sent;
    }
    if (entries.length === 0 && (sent || !sendIfEmpty)) return sent;
    let bytes = 0;
    for (const e of entries) bytes += entryBytes(e);
    r.send({ type: "app", from: r.id, to, term: r.term, index: prevIndex, logTerm: prevTerm, entries, commit: r.log.committed });
    pr.sentEntries(prevIndex + entries.length, entries.length, bytes);
    sent = true;
    if (pr.state !== "replicate" || entries.length === 0) return sent;
  }
}

/** The follower needs entries we compacted: send our newest snapshot instead (§5). */
function sendSnapshot(r: Raft, to: NodeId): boolean {
  const pr = r.progress.get(to)!;
  // A follower that has not answered lately may be down; do not stream a snapshot into the void.
  if (!pr.recentActive) return false;
  let snapshot;
  try {
    snapshot = r.log.snapshot();
  } catch (error) {
    if (error instanceof SnapshotTemporarilyUnavailableError) return false;
    throw error;
  }
  pr.becomeSnapshot(snapshot.meta.index);
  r.send({ type: "snap", from: r.id, to, term: r.term, snapshot });
  return true;
}

/** Starts a heartbeat round: it keeps followers from campaigning, carries the commit index, and confirms reads. */
export function bcastHeartbeat(r: Raft): void {
  const round = r.reads.nextRound(r.ticks);
  for (const [id, pr] of r.progress) {
    if (id === r.id) continue;
    // Never tell a follower to commit past what it is known to hold.
    r.send({ type: "heartbeat", from: r.id, to: id, term: r.term, commit: Math.min(pr.match, r.log.committed), round });
  }
  // A single voter confirms its own rounds.
  releaseConfirmedReads(r);
}

function handleAppendResponse(r: Raft, m: MsgAppResp): void {
  const pr = r.progress.get(m.from);
  if (pr === undefined) return;
  pr.recentActive = true;
  if (m.reject) {
    const hint = m.logTerm > 0 ? r.log.findConflictByTerm(m.rejectHint, m.logTerm).index : m.rejectHint;
    if (pr.maybeDecrTo(m.index, hint)) {
      if (pr.state === "replicate") pr.becomeProbe();
      sendAppends(r, m.from, true);
    }
    return;
  }
  const updated = pr.maybeUpdate(m.index);
  if (!updated && !(pr.state === "probe" && pr.match === m.index)) return;
  switch (pr.state) {
    case "probe":
      pr.becomeReplicate();
      break;
    case "snapshot":
      if (pr.match >= pr.pendingSnapshot) pr.becomeReplicate();
      break;
    case "replicate":
      pr.inflights.freeLE(m.index);
      break;
  }
  if (updated && r.maybeCommit()) r.appendsWanted = true;
  if (r.role !== "leader") return; // committing our own removal made us step down
  sendAppends(r, m.from, false);
  if (m.from === r.leadTransferee && pr.match === r.log.lastIndex()) sendTimeoutNow(r, m.from);
}

function handleHeartbeatResponse(r: Raft, m: MsgHeartbeatResp): void {
  const pr = r.progress.get(m.from);
  if (pr === undefined) return;
  pr.recentActive = true;
  pr.probeSent = false;
  // The follower is alive but our appends may have been lost: make room for one more, which either
  // lands or is rejected and sends us back to probing.
  if (pr.state === "replicate" && pr.inflights.full()) pr.inflights.freeFirstOne();
  if (!pr.isLearner) r.reads.ack(m.from, m.round);
  releaseConfirmedReads(r);
  // Even an empty append helps a lagging follower: if what we think is in flight was lost, it
  // rejects this one, and we go back to probing from what it really holds.
  if (pr.match < r.log.lastIndex()) sendAppends(r, m.from, true);
}

/**
 * A linearizable read on the leader, asked locally or forwarded by `from`. Returns false when the
 * read queue is full. §6.4: (1) wait until an entry of this term is committed, (2) note the commit
 * index, (3) confirm leadership with a heartbeat round, or skip that while the lease holds.
 */
export function leaderRead(r: Raft, context: string, from: NodeId, lease: boolean): boolean {
  if (!r.committedEntryInCurrentTerm()) {
    if (r.readsAwaitingTermCommit.length >= r.config.pendingReadsMax) return false;
    r.readsAwaitingTermCommit.push({ context, from, lease });
    return true;
  }
  if (lease && leaseValid(r)) {
    answerRead(r, context, from, r.log.committed);
    return true;
  }
  return r.reads.add(context, from, r.log.committed);
}

/**
 * §6.4.1: while a quorum acknowledged a heartbeat round sent less than leaseTicks() ago, no other
 * leader can have been elected: each of them refuses votes for an election timeout after hearing
 * from us (see Raft.step), and any electing quorum includes one of them. Safe only with CheckQuorum,
 * with no TimeoutNow sent this term (its candidate overrides that refusal), and with clocks whose
 * drift stays within the margin of RaftConfig.clockDriftTicks.
 */
export function leaseValid(r: Raft): boolean {
  if (!r.config.leaseReads || r.leaseRevoked || r.leadTransferee !== NONE) return false;
  const voters = r.configs.current().voters;
  if (r.reads.quorumRound(voters, r.id) < r.leaseMinRound) return false;
  const sentTick = r.reads.quorumRoundSentTick(voters, r.id);
  return sentTick !== undefined && r.ticks < sentTick + r.leaseTicks();
}

export function releaseConfirmedReads(r: Raft): void {
  for (const read of r.reads.takeConfirmed(r.configs.current().voters, r.id)) answerRead(r, read.context, read.from, read.index);
}

function answerRead(r: Raft, context: string, from: NodeId, index: number): void {
  if (from === r.id) r.readStates.push({ index, context });
  else r.send({ type: "readIndexResp", from: r.id, to: from, term: r.term, context, index });
}

export function transferLeadership(r: Raft, transferee: NodeId): void {
  if (transferee === r.id || transferee === r.leadTransferee) return;
  if (!isVoter(r.configs.current(), transferee) || !r.progress.has(transferee)) return;
  r.leadTransferee = transferee;
  // The transfer must finish within an election timeout, or it is abandoned (tickLeader).
  r.electionElapsed = 0;
  if (r.progress.get(transferee)!.match === r.log.lastIndex()) sendTimeoutNow(r, transferee);
  else sendAppends(r, transferee, true);
}

export function sendTimeoutNow(r: Raft, to: NodeId): void {
  // The transferee's election overrides the followers' refusal to vote, so our lease is void from now on.
  r.leaseRevoked = true;
  r.send({ type: "timeoutNow", from: r.id, to, term: r.term } satisfies Message);
}
