// Elections (Raft §3.4): campaigning with an optional pre-vote round (§9.6), counting votes, and
// answering vote requests. A granted vote is durable before it is sent; a candidate's own vote
// counts only once its hard state is (see Raft.onPersisted). Answers to stale terms live here too.

import type { Raft } from "./raft.js";
import { voteResult } from "./quorum.js";
import { type Message, type MsgVote, NONE, type NodeId } from "./types.js";

export function campaign(r: Raft, kind: "preElection" | "election", transfer: boolean): void {
  const voters = r.configs.current().voters;
  if (kind === "preElection") {
    r.becomePreCandidate();
    // A pre-vote changes nothing durable, so our own counts at once.
    r.votes.set(r.id, true);
  } else {
    r.becomeCandidate();
  }
  const term = kind === "preElection" ? r.term + 1 : r.term;
  const type = kind === "preElection" ? "preVote" : "vote";
  for (const to of voters) {
    if (to === r.id) continue;
    r.send({ type, from: r.id, to, term, index: r.log.lastIndex(), logTerm: r.log.lastTerm(), transfer });
  }
  poll(r);
}

export function hup(r: Raft, transfer: boolean): void {
  if (r.role === "leader" || !r.promotable()) return;
  campaign(r, r.config.preVote && !transfer ? "preElection" : "election", transfer);
}

function poll(r: Raft): void {
  const result = voteResult(r.configs.current().voters, r.votes);
  if (result === "won") {
    if (r.role === "preCandidate") campaign(r, "election", false);
    else if (r.role === "candidate") r.becomeLeader();
  } else if (result === "lost") {
    r.becomeFollower(r.term, NONE);
  }
}

export function recordVote(r: Raft, from: NodeId, granted: boolean): void {
  if (!r.votes.has(from)) r.votes.set(from, granted);
  poll(r);
}

export function handleVoteRequest(r: Raft, m: MsgVote): void {
  const canVote =
    r.vote === m.from || (r.vote === NONE && r.lead === NONE) || (m.type === "preVote" && m.term > r.term);
  const granted = canVote && r.candidateLogIsUpToDate(m);
  if (m.type === "vote") {
    if (granted) {
      r.electionElapsed = 0;
      r.vote = m.from;
    }
    // A granted vote must be durable before the candidate may count it.
    r.sendAfterPersist({ type: "voteResp", from: r.id, to: m.from, term: r.term, reject: !granted });
  } else {
    // A granted pre-vote answers in the term the candidate asked about, so that it can count it.
    r.send({ type: "preVoteResp", from: r.id, to: m.from, term: granted ? m.term : r.term, reject: !granted });
  }
}

/** A message from an older term. Tell a deposed leader the news; ignore the rest. */
export function stepStale(r: Raft, m: Message): void {
  if (m.type === "app" || m.type === "heartbeat") {
    // Without this, a leader cut off by a partition that also runs PreVote or CheckQuorum would
    // never learn the new term from us (our pre-votes and votes would not reach it).
    r.sendAfterPersist({ type: "appResp", from: r.id, to: m.from, term: r.term, index: 0, reject: false, rejectHint: 0, logTerm: 0 });
  } else if (m.type === "preVote") {
    r.send({ type: "preVoteResp", from: r.id, to: m.from, term: r.term, reject: true });
  }
}
