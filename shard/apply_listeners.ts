// Who wants to hear that a shard's replica on this node applied entries: watches, locks and elections
// waiting for a change. A notice carries only the revision now applied, a hint that something is new;
// listeners read what changed from the shard's state themselves, so a notice costs the apply lane one
// call per listener and never a copy of the events. A listener must neither block nor throw: it runs
// inside the apply lane, and a throw is caught and reported rather than allowed to stop the replica.

import type { GroupId } from "./wal/record.js";

/** Told the shard's revision (its applied index) once entries applied or a snapshot was installed. */
export type ApplyListener = (revision: number) => void;

export class ApplyListeners {
  readonly #byGroup = new Map<GroupId, Set<ApplyListener>>();

  constructor(private readonly onError: (group: GroupId, error: unknown) => void) {}

  /** Starts telling `listener` about `group`; the returned function stops it (calling it twice is harmless). */
  add(group: GroupId, listener: ApplyListener): () => void {
    let listeners = this.#byGroup.get(group);
    if (listeners === undefined) this.#byGroup.set(group, (listeners = new Set()));
    // A wrapper, so that one function added twice is two subscriptions, each removed by its own stop.
    const entry: ApplyListener = (revision) => listener(revision);
    listeners.add(entry);
    return () => {
      listeners.delete(entry);
      if (listeners.size === 0 && this.#byGroup.get(group) === listeners) this.#byGroup.delete(group);
    };
  }

  notify(group: GroupId, revision: number): void {
    const listeners = this.#byGroup.get(group);
    if (listeners === undefined) return;
    // A Set visits what is added during the loop and skips what is removed: a listener that stops
    // itself, or starts another, is safe.
    for (const listener of listeners) {
      try {
        listener(revision);
      } catch (error) {
        this.onError(group, error);
      }
    }
  }

  /** Listeners of `group` (tests and metrics). */
  count(group: GroupId): number {
    return this.#byGroup.get(group)?.size ?? 0;
  }
}
