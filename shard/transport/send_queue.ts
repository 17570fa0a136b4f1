// The messages waiting for one peer's stream, grouped by Raft group, bounded in messages and in
// (estimated) bytes. Over either bound the newest message is refused: Raft tolerates loss and resends,
// while an unbounded queue in front of a slow peer would only grow until the node ran out of memory.
// Order within a group is kept; order across groups does not matter to Raft.

import type { Message } from "../../raft/index.js";
import type { GroupId } from "../wal/record.js";

export interface GroupMessages {
  readonly group: GroupId;
  readonly messages: Message[];
}

/** Field tags, lengths and varints of a message's envelope and body, rounded up. */
const MESSAGE_OVERHEAD_BYTES = 64;
/** The same for each entry around its data. */
const ENTRY_OVERHEAD_BYTES = 32;

/**
 * About how many bytes a message takes on the wire, erring high. Exact sizes would mean encoding
 * twice; the bounds only need to be in the right order of magnitude.
 */
export function estimatedBytes(message: Message): number {
  switch (message.type) {
    case "app":
    case "prop": {
      let bytes = MESSAGE_OVERHEAD_BYTES;
      for (const entry of message.entries) bytes += ENTRY_OVERHEAD_BYTES + entry.data.byteLength;
      return bytes;
    }
    case "readIndex":
    case "readIndexResp":
      return MESSAGE_OVERHEAD_BYTES + 3 * message.context.length; // UTF-8 takes at most 3 bytes per UTF-16 unit
    case "snap":
      return MESSAGE_OVERHEAD_BYTES + 16 * (message.snapshot.meta.confState.voters.length + message.snapshot.meta.confState.learners.length) + message.snapshot.data.byteLength;
    default:
      return MESSAGE_OVERHEAD_BYTES;
  }
}

export class SendQueue {
  private groups = new Map<GroupId, Message[]>();
  /** Invariant: the number of messages in `groups`. */
  private messageCount = 0;
  /** Invariant: the sum of `estimatedBytes` over the messages in `groups`. */
  private byteCount = 0;

  constructor(
    private readonly messagesMax: number,
    private readonly bytesMax: number,
  ) {}

  get messages(): number {
    return this.messageCount;
  }

  get bytes(): number {
    return this.byteCount;
  }

  /**
   * Queues the message, or refuses it (false) when that would pass a bound. An empty queue takes any
   * one message, so that a message larger than the byte bound is not refused forever.
   */
  offer(group: GroupId, message: Message): boolean {
    const bytes = estimatedBytes(message);
    if (this.messageCount > 0 && (this.messageCount + 1 > this.messagesMax || this.byteCount + bytes > this.bytesMax)) return false;
    let list = this.groups.get(group);
    if (list === undefined) this.groups.set(group, (list = []));
    list.push(message);
    this.messageCount++;
    this.byteCount += bytes;
    return true;
  }

  /** Removes the oldest messages up to about `bytesMax` (at least one), as one batch's worth of groups. */
  take(bytesMax: number): GroupMessages[] {
    const batch: GroupMessages[] = [];
    let bytes = 0;
    for (const [group, list] of this.groups) {
      let taken = 0;
      while (taken < list.length) {
        const size = estimatedBytes(list[taken]!);
        if (bytes > 0 && bytes + size > bytesMax) break;
        bytes += size;
        taken++;
      }
      if (taken === 0) break;
      const whole = taken === list.length;
      if (whole) this.groups.delete(group);
      batch.push({ group, messages: whole ? list : list.splice(0, taken) });
      this.messageCount -= taken;
      if (!whole) break;
    }
    this.byteCount -= bytes;
    return batch;
  }

  /** Empties the queue; returns the groups that had messages in it. */
  clear(): GroupId[] {
    const groups = [...this.groups.keys()];
    this.groups = new Map();
    this.messageCount = 0;
    this.byteCount = 0;
    return groups;
  }
}
