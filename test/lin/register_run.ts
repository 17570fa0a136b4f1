/**
 * Linearizable histories by construction, for the quick checks and the performance check: clients
 * issue operations with random gaps and durations, each operation takes effect at one instant inside
 * its interval (an unknown one at any instant after its call, or never), and a real sequential
 * register executed in the order of those instants supplies every result.
 */
import type { Operation, OpKind, OpStatus } from "./history.js";

export type PlannedOutcome = "ok" | "fail" | "unknown-applied" | "unknown-lost";

export interface OpPlan {
  /** Which client slot issues it; a slot whose op ends unknown continues under a fresh client id. */
  slot: number;
  key: number;
  kind: OpKind;
  /** Idle time between the slot's previous return and this call. */
  gap: number;
  /** From call to return; at least 1. */
  duration: number;
  /** Where it takes effect, in thousandths of its interval (of three intervals, for an unknown outcome). */
  effectPermille: number;
  outcome: PlannedOutcome;
  /** Chooses a cas's expected value: the current one when divisible by 3, else one of the key's past values. */
  pick: number;
}

interface Planned {
  plan: OpPlan;
  op: Operation;
  /** When it takes effect; undefined if it never does. */
  effectTime: number | undefined;
}

/** Runs the plans against a register and returns the history, ids in plan order. */
export function runPlans(plans: readonly OpPlan[]): Operation[] {
  const planned = schedule(plans);
  const states = new Map<number, string | null>();
  const pastValues = new Map<number, (string | null)[]>();
  const effective = planned.filter((entry) => entry.effectTime !== undefined);
  effective.sort((x, y) => (x.effectTime ?? 0) - (y.effectTime ?? 0) || x.op.id - y.op.id);
  for (const { plan, op } of effective) {
    const state = states.get(plan.key) ?? null;
    const past = pastValues.get(plan.key) ?? [null];
    pastValues.set(plan.key, past);
    if (op.kind === "read" && op.status === "ok") op.value = state;
    if (op.kind === "cas") op.expected = expectedValue(plan, state, past);
    if (op.kind === "cas" && op.status === "ok") op.swapped = op.expected === state;
    const written = op.kind === "delete" ? null : op.value ?? null;
    const writes = op.kind === "write" || op.kind === "delete" || (op.kind === "cas" && op.expected === state);
    if (writes) {
      states.set(plan.key, written);
      past.push(written);
    }
  }
  for (const { plan, op } of planned) {
    // A cas that never took effect still expected something: any past value will do.
    if (op.kind === "cas" && op.expected === undefined) {
      op.expected = expectedValue(plan, null, pastValues.get(plan.key) ?? [null]);
    }
  }
  return planned.map((entry) => entry.op);
}

/** Turns plans into timed operations (results still unset) and the instant each takes effect. */
function schedule(plans: readonly OpPlan[]): Planned[] {
  const clockBySlot = new Map<number, number>();
  const clientBySlot = new Map<number, number>();
  let nextClient = Math.max(0, ...plans.map((plan) => plan.slot)) + 1;
  return plans.map((plan, index) => {
    const call = (clockBySlot.get(plan.slot) ?? 0) + plan.gap;
    const returned = call + Math.max(1, plan.duration);
    clockBySlot.set(plan.slot, returned);
    const client = clientBySlot.get(plan.slot) ?? plan.slot;
    const unknown = plan.outcome === "unknown-applied" || plan.outcome === "unknown-lost";
    // Jepsen's rule: a client whose op may still be in flight never issues another; a new one takes over.
    if (unknown) clientBySlot.set(plan.slot, nextClient++);
    const status: OpStatus = unknown ? "unknown" : plan.outcome === "fail" ? "fail" : "ok";
    const op: Operation = { id: index + 1, client, key: `k${plan.key}`, kind: plan.kind, call, status };
    if (!unknown) op.return = returned;
    if (plan.kind === "write" || plan.kind === "cas") op.value = `v${index + 1}`;
    const span = (returned - call) * (unknown ? 3 : 1);
    const applied = plan.outcome === "ok" || plan.outcome === "unknown-applied";
    return { plan, op, effectTime: applied ? call + (span * plan.effectPermille) / 1000 : undefined };
  });
}

function expectedValue(plan: OpPlan, state: string | null, past: readonly (string | null)[]): string | null {
  if (plan.pick % 3 === 0) return state;
  return past[plan.pick % past.length] ?? null;
}

/** A small deterministic PRNG (mulberry32): the performance check needs reproducible, not strong, randomness. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface WorkloadShape {
  operations: number;
  keys: number;
  clients: number;
  /** Probability that an op's outcome is unknown (half of those took effect). */
  unknownRate: number;
  failRate: number;
}

/** Plans for a random workload, reproducible from `seed`. */
export function randomPlans(seed: number, shape: WorkloadShape): OpPlan[] {
  const random = seededRandom(seed);
  const below = (bound: number): number => Math.floor(random() * bound);
  const kinds: readonly OpKind[] = ["read", "read", "write", "cas", "delete"];
  return Array.from({ length: shape.operations }, (_, index): OpPlan => {
    const roll = random();
    const outcome: PlannedOutcome =
      roll < shape.unknownRate / 2
        ? "unknown-applied"
        : roll < shape.unknownRate
          ? "unknown-lost"
          : roll < shape.unknownRate + shape.failRate
            ? "fail"
            : "ok";
    return {
      slot: index % shape.clients,
      key: below(shape.keys),
      kind: kinds[below(kinds.length)] ?? "read",
      gap: below(20),
      duration: 1 + below(40),
      effectPermille: below(1001),
      outcome,
      pick: below(1000),
    };
  });
}
