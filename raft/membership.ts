// Group membership with single-server changes (Raft thesis §4.1): every replica uses the newest
// configuration in its log, committed or not, and falls back to an older one when a conflicting
// suffix is cut. Learners (§4.2.1) receive the log but neither vote nor count for commitment.
// Any two configurations that differ by one voter have overlapping majorities; that, and the rule
// that a leader starts a change only after committing an entry of its own term and the previous
// change, is what keeps two leaders from being elected in one term.

import { assert } from "./assert.js";
import type { ConfChange, ConfState, NodeId } from "./types.js";

export interface Configuration {
  /** Sorted ascending. */
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export function configurationOf(confState: ConfState): Configuration {
  return { voters: [...confState.voters].sort((a, b) => a - b), learners: [...confState.learners].sort((a, b) => a - b) };
}

export function isVoter(config: Configuration, id: NodeId): boolean {
  return config.voters.includes(id);
}

export function isMember(config: Configuration, id: NodeId): boolean {
  return config.voters.includes(id) || config.learners.includes(id);
}

/** Why `change` cannot apply to `config`, or undefined if it can. */
export function invalidChangeReason(config: Configuration, change: ConfChange): string | undefined {
  const id = change.nodeId;
  if (!Number.isSafeInteger(id) || id <= 0) return `node id ${id} is not a positive integer`;
  switch (change.type) {
    case "addVoter":
      return isVoter(config, id) ? `node ${id} is already a voter` : undefined;
    case "addLearner":
      if (isVoter(config, id)) return `node ${id} is a voter; demoting a voter to a learner is not supported`;
      return config.learners.includes(id) ? `node ${id} is already a learner` : undefined;
    case "removeNode":
      if (!isMember(config, id)) return `node ${id} is not a member`;
      if (isVoter(config, id) && config.voters.length === 1) return `node ${id} is the last voter`;
      return undefined;
  }
}

/** The configuration after `change`. Invalid changes leave it as it is (every replica does the same). */
export function applyChange(config: Configuration, change: ConfChange): Configuration {
  if (invalidChangeReason(config, change) !== undefined) return config;
  const id = change.nodeId;
  const voters = config.voters.filter((v) => v !== id);
  const learners = config.learners.filter((l) => l !== id);
  if (change.type === "addVoter") voters.push(id);
  if (change.type === "addLearner") learners.push(id);
  return { voters: voters.sort((a, b) => a - b), learners: learners.sort((a, b) => a - b) };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeConfChange(change: ConfChange): Uint8Array {
  return encoder.encode(JSON.stringify(change));
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  const value: unknown = JSON.parse(decoder.decode(data));
  assert(typeof value === "object" && value !== null, "conf change entry is not an object");
  const { type, nodeId } = value as { type?: unknown; nodeId?: unknown };
  assert(type === "addVoter" || type === "addLearner" || type === "removeNode", () => `unknown conf change type ${String(type)}`);
  assert(typeof nodeId === "number", "conf change without a node id");
  return { type, nodeId };
}

/**
 * The configurations in the log: a base as of `baseIndex` (the snapshot) and one per configuration
 * entry above it, so that cutting a suffix restores the configuration before it.
 */
export class ConfigurationHistory {
  private readonly points: { index: number; config: Configuration }[];

  constructor(baseIndex: number, base: Configuration) {
    this.points = [{ index: baseIndex, config: base }];
  }

  current(): Configuration {
    return this.points[this.points.length - 1]!.config;
  }

  /** The index of the newest configuration entry (or of the base). */
  currentIndex(): number {
    return this.points[this.points.length - 1]!.index;
  }

  /** The configuration in force at `index`. */
  at(index: number): Configuration {
    for (let i = this.points.length - 1; i >= 0; i--) {
      const point = this.points[i]!;
      if (point.index <= index) return point.config;
    }
    return this.points[0]!.config;
  }

  append(index: number, change: ConfChange): void {
    assert(index > this.currentIndex(), "configuration entries must be appended in log order");
    this.points.push({ index, config: applyChange(this.current(), change) });
  }

  /** Forgets configurations of entries at or after `index` (a conflicting suffix was cut). */
  truncateFrom(index: number): void {
    while (this.points.length > 1 && this.points[this.points.length - 1]!.index >= index) this.points.pop();
  }

  /** Forgets configuration points that compaction made unnecessary, keeping the one in force at `index`. */
  compactTo(index: number): void {
    while (this.points.length > 1 && this.points[1]!.index <= index) this.points.shift();
  }

  reset(baseIndex: number, base: Configuration): void {
    this.points.length = 0;
    this.points.push({ index: baseIndex, config: base });
  }
}
