// What a follower and a candidate do with the messages of a leader (Raft §3.5, §5): append with the
// log-matching check and fast-backtracking hints, learn the commit index, install snapshots, and,
// for a candidate, count votes. Acknowledgements wait for persistence (sendAfterPersist).

import { assert } from "./assert.js";
import { hup, recordVote } from "./election.js";
import { configurationOf } from "./membership.js";
import { followQuiesce } from "./quiescence.js";
import type { Raft } from "./raft.js";
import type { Message, MsgApp, MsgHeartbeat, MsgSnap, NodeId } from "./types.js";

export function stepCandidate(r: Raft, m: Message): void {
  switch (m.type) {
    case "app":
    case "heartbeat":
    case "snap":
      // A leader of our term exists: follow it, and hear it as a follower does. The leader counts
      // our answer toward its lease, so from now on we must refuse votes as its followers do.
      r.becomeFollower(m.term, m.from);
      stepFollower(r, m);
      return;
    case "voteResp":
    case "preVoteResp":
      if ((m.type === "voteResp") === (r.role === "candidate")) recordVote(r, m.from, !m.reject);
      return;
    default:
      // Proposals, reads and transfer requests meet no leader here: dropped.
      return;
  }
}

export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case "app":
      heardFromLeader(r, m.from);
      handleAppend(r, m);
      return;
    case "heartbeat":
      heardFromLeader(r, m.from);
      handleHeartbeat(r, m);
      return;
    case "snap":
      heardFromLeader(r, m.from);
      handleSnapshot(r, m);
      return;
    case "timeoutNow":
      // §3.10: the leader chose us; campaign now, and voters will not hold their lease against us.
      hup(r, true);
      return;
    case "readIndexResp":
      r.readStates.push({ index: m.index, context: m.context });
      return;
    default:
      // A forwarded proposal, read or transfer request that reached a follower is dropped: the
      // leader changed while it travelled. The asker learns of the change and asks a read again;
      // a proposal it waits out (shard/waiters.ts settle).
      return;
  }
}

function heardFromLeader(r: Raft, from: NodeId): void {
  r.electionElapsed = 0;
  r.leaderContactElapsed = 0;
  r.lead = from;
}

function handleAppend(r: Raft, m: MsgApp): void {
  const reply = (index: number, reject = false, rejectHint = 0, logTerm = 0): void =>
    r.sendAfterPersist({ type: "appResp", from: r.id, to: m.from, term: r.term, index, reject, rejectHint, logTerm });
  if (m.index < r.log.committed) {
    reply(r.log.committed);
    return;
  }
  if (!r.log.matchTerm(m.index, m.logTerm)) {
    // Fast backtracking: point the leader at the last index whose term could match its log.
    const hint = r.log.findConflictByTerm(Math.min(m.index, r.log.lastIndex()), m.logTerm);
    reply(m.index, true, hint.index, hint.term);
    return;
  }
  const conflict = r.log.findConflict(m.entries);
  if (conflict !== 0) {
    assert(conflict > r.log.committed, () => `leader ${m.from} sent an entry at ${conflict} that conflicts with our committed log (${r.log.committed})`);
    r.appendToLog(m.entries.slice(conflict - m.entries[0]!.index));
  }
  const lastNew = m.index + m.entries.length;
  r.log.commitTo(Math.min(m.commit, lastNew));
  reply(lastNew);
}

function handleHeartbeat(r: Raft, m: MsgHeartbeat): void {
  // The leader sends min(commit, our match), so this never runs past our log.
  r.log.commitTo(m.commit);
  if (m.quiesce === true && followQuiesce(r, m.from, m.commit)) return;
  r.send({ type: "heartbeatResp", from: r.id, to: m.from, term: r.term, round: m.round });
}

function handleSnapshot(r: Raft, m: MsgSnap): void {
  const { meta } = m.snapshot;
  if (meta.index <= r.log.committed) {
    // Old news: we already have all of it.
  } else if (r.log.matchTerm(meta.index, meta.term)) {
    // We have the snapshot's last entry: it is committed; keep our log.
    r.log.commitTo(meta.index);
  } else {
    r.log.restore(m.snapshot);
    r.configs.reset(meta.index, configurationOf(meta.confState));
  }
  r.sendAfterPersist({ type: "appResp", from: r.id, to: m.from, term: r.term, index: r.log.lastIndex(), reject: false, rejectHint: 0, logTerm: 0 });
}
