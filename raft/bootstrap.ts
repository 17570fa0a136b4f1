// How a new group starts: its first entries add the initial voters, committed in term 1, as etcd does.
// A replica that joins later replays them like any other entry, so membership always has a history in
// the log and never depends on a flag given at start-up.

import { encodeConfChange } from "./membership.js";
import type { Entry, HardState, NodeId } from "./types.js";

export function bootstrapEntries(voters: readonly NodeId[]): { entries: Entry[]; hardState: HardState } {
  const entries = voters.map(
    (nodeId, i): Entry => ({ term: 1, index: i + 1, type: "confChange", data: encodeConfChange({ type: "addVoter", nodeId }) }),
  );
  return { entries, hardState: { term: 1, vote: 0, commit: entries.length } };
}
