// Proposals: what becomes of one on each kind of replica, in one place, with the reasons a caller
// can act on when it is refused.

import { unreachable } from "./assert.js";
import { decodeConfChange, invalidChangeReason } from "./membership.js";
import type { Raft } from "./raft.js";
import { NONE, type NodeId, type ProposedEntry } from "./types.js";

/**
 * What became of a proposal. The rules, in one place:
 * - on the leader it is appended (unless a transfer is under way or the uncommitted limit is hit);
 * - on a follower that knows the leader it is forwarded, and the caller learns its fate only by
 *   watching for the entry to apply (a forwarded proposal that meets no leader is dropped silently);
 * - without a known leader, or with forwarding disabled, it is dropped at once.
 */
export type ProposeResult =
  | { readonly kind: "appended"; readonly firstIndex: number; readonly lastIndex: number; readonly term: number }
  | { readonly kind: "forwarded"; readonly to: NodeId }
  | { readonly kind: "dropped"; readonly reason: DropReason; readonly message: string };

export type DropReason =
  | "noLeader"
  | "notLeader"
  | "transferring"
  | "uncommittedLimit"
  | "confChangePending"
  | "invalidConfChange"
  | "readQueueFull";

export type ReadResult = { readonly kind: "accepted" } | { readonly kind: "dropped"; readonly reason: DropReason; readonly message: string };

export function proposeEntries(r: Raft, entries: readonly ProposedEntry[]): ProposeResult {
  switch (r.role) {
    case "leader":
      return leaderPropose(r, entries);
    case "follower":
      if (r.lead === NONE) return { kind: "dropped", reason: "noLeader", message: "no leader is known for this group" };
      if (!r.config.forwardProposals) {
        return { kind: "dropped", reason: "notLeader", message: `this replica is a follower and forwarding is off; send it to the leader, ${r.lead}` };
      }
      r.send({ type: "prop", from: r.id, to: r.lead, term: 0, entries });
      return { kind: "forwarded", to: r.lead };
    case "candidate":
    case "preCandidate":
      return { kind: "dropped", reason: "noLeader", message: "an election is under way" };
    default:
      return unreachable(r.role);
  }
}

/** The leader's side of a proposal, local or forwarded. */
export function leaderPropose(r: Raft, entries: readonly ProposedEntry[]): ProposeResult {
  if (r.leadTransferee !== NONE) {
    return { kind: "dropped", reason: "transferring", message: `leadership is moving to ${r.leadTransferee}; retry with the new leader` };
  }
  const changes = entries.filter((e) => e.type === "confChange");
  if (changes.length > 1) return { kind: "dropped", reason: "invalidConfChange", message: "propose one configuration change at a time" };
  for (const e of changes) {
    const blocked = r.confChangeBlockedReason() ?? invalidChangeReason(r.configs.current(), decodeConfChange(e.data));
    if (blocked !== undefined) return { kind: "dropped", reason: "confChangePending", message: blocked };
  }
  if (r.config.uncommittedBytesMax > 0) {
    let bytes = 0;
    for (const e of entries) bytes += e.data.byteLength;
    // Always let one batch through when nothing is pending, so a large entry cannot wedge the group.
    if (r.uncommittedBytes > 0 && r.uncommittedBytes + bytes > r.config.uncommittedBytesMax) {
      return {
        kind: "dropped",
        reason: "uncommittedLimit",
        message: `${r.uncommittedBytes} bytes are proposed and not yet applied (limit ${r.config.uncommittedBytesMax}); retry after they commit`,
      };
    }
    r.uncommittedBytes += bytes;
  }
  const appended = r.appendEntries(entries);
  return { kind: "appended", firstIndex: appended[0]!.index, lastIndex: appended[appended.length - 1]!.index, term: r.term };
}
