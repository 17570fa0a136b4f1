/**
 * The operations the search may linearize next, as two lists with dancing links (Knuth): linearizing
 * an operation unlinks it, backtracking relinks it in O(1). Definite operations are call and return
 * events sorted by time; unknown-outcome operations are calls only, sorted by call time, because
 * nothing ever waits for them. Neither list decides anything: the search owns the choices.
 */
import type { Operation } from "./history.js";
import { compileOperation, step } from "./register.js";
import type { StepCode, ValueInterner } from "./register.js";

/**
 * Ok operations, numbered by rank: the order of their returns. Nodes: 0 is the head, 1..2*count the
 * events, 2*count + 1 the tail (never reached: a pending return always comes first). At equal times a
 * call sorts before a return, so ops that merely touch are concurrent: the permissive reading, which
 * can miss a violation measured in a clock's last digit but never invents one.
 */
export class DefiniteOps {
  readonly count: number;
  private readonly ops: readonly Operation[];
  private readonly nextNode: Int32Array;
  private readonly prevNode: Int32Array;
  private readonly nodeRank: Int32Array;
  private readonly nodeIsCall: Uint8Array;
  private readonly callNodes: Int32Array;
  private readonly returnNodes: Int32Array;
  private readonly returnTimes: Float64Array;
  private readonly codes: Uint8Array;
  private readonly a: Int32Array;
  private readonly b: Int32Array;

  constructor(ops: readonly Operation[], values: ValueInterner) {
    this.ops = [...ops].sort((x, y) => returnTimeOf(x) - returnTimeOf(y));
    const count = (this.count = this.ops.length);
    this.nodeRank = new Int32Array(2 * count + 2);
    this.nodeIsCall = new Uint8Array(2 * count + 2);
    this.callNodes = new Int32Array(count);
    this.returnNodes = new Int32Array(count);
    this.returnTimes = new Float64Array(count);
    this.codes = new Uint8Array(count);
    this.a = new Int32Array(count);
    this.b = new Int32Array(count);
    const events: { time: number; isCall: boolean; rank: number }[] = [];
    this.ops.forEach((op, rank) => {
      const compiled = compileOperation(op, values);
      this.codes[rank] = compiled.code;
      this.a[rank] = compiled.a;
      this.b[rank] = compiled.b;
      this.returnTimes[rank] = returnTimeOf(op);
      events.push({ time: op.call, isCall: true, rank }, { time: returnTimeOf(op), isCall: false, rank });
    });
    events.sort((x, y) => x.time - y.time || Number(y.isCall) - Number(x.isCall) || x.rank - y.rank);
    events.forEach((event, index) => {
      const node = index + 1;
      this.nodeRank[node] = event.rank;
      this.nodeIsCall[node] = event.isCall ? 1 : 0;
      (event.isCall ? this.callNodes : this.returnNodes)[event.rank] = node;
    });
    [this.nextNode, this.prevNode] = linkedInOrder(2 * count + 2);
  }

  first(): number {
    return this.nextNode[0] ?? 0;
  }

  next(node: number): number {
    return this.nextNode[node] ?? 0;
  }

  isCall(node: number): boolean {
    return this.nodeIsCall[node] === 1;
  }

  rankOf(node: number): number {
    return this.nodeRank[node] ?? 0;
  }

  callNode(rank: number): number {
    return this.callNodes[rank] ?? 0;
  }

  returnTime(rank: number): number {
    return this.returnTimes[rank] ?? 0;
  }

  operation(rank: number): Operation {
    const op = this.ops[rank];
    if (op === undefined) throw new Error(`No definite operation has rank ${rank} (count ${this.count})`);
    return op;
  }

  code(rank: number): StepCode {
    return (this.codes[rank] ?? 0) as StepCode;
  }

  /** The value the op reads, writes or compares against (CompiledOp.a). */
  operandA(rank: number): number {
    return this.a[rank] ?? 0;
  }

  /** The value a cas writes (CompiledOp.b). */
  operandB(rank: number): number {
    return this.b[rank] ?? 0;
  }

  step(rank: number, state: number): number {
    return step(this.code(rank), this.a[rank] ?? 0, this.b[rank] ?? 0, state);
  }

  /** Unlinks the op's call and return; unlift must undo lifts in reverse order. */
  lift(rank: number): void {
    unlink(this.nextNode, this.prevNode, this.callNodes[rank] ?? 0);
    unlink(this.nextNode, this.prevNode, this.returnNodes[rank] ?? 0);
  }

  unlift(rank: number): void {
    relink(this.nextNode, this.prevNode, this.returnNodes[rank] ?? 0);
    relink(this.nextNode, this.prevNode, this.callNodes[rank] ?? 0);
  }
}

/**
 * Unknown-outcome writes, deletes and cas, sorted by call time. Ops are numbered 0..count-1 by that
 * order (a linked node is number + 1); `first` and `next` return count, the tail, at the end, whose
 * call time is +Infinity so that a scan bounded by a time stops there.
 */
export class UnknownOps {
  readonly count: number;
  private readonly nextNode: Int32Array;
  private readonly prevNode: Int32Array;
  private readonly callTimes: Float64Array;
  private readonly codes: Uint8Array;
  private readonly a: Int32Array;
  private readonly b: Int32Array;
  /** The previous op in list order with the same compiled effect, or -1. */
  private readonly twins: Int32Array;

  constructor(ops: readonly Operation[], values: ValueInterner) {
    const sorted = [...ops].sort((x, y) => x.call - y.call);
    this.count = sorted.length;
    this.callTimes = new Float64Array(this.count + 1).fill(Number.POSITIVE_INFINITY);
    this.codes = new Uint8Array(this.count);
    this.a = new Int32Array(this.count);
    this.b = new Int32Array(this.count);
    this.twins = new Int32Array(this.count);
    const lastWithEffect = new Map<string, number>();
    sorted.forEach((op, index) => {
      const compiled = compileOperation(op, values);
      this.callTimes[index] = op.call;
      this.codes[index] = compiled.code;
      this.a[index] = compiled.a;
      this.b[index] = compiled.b;
      const effect = `${compiled.code}:${compiled.a}:${compiled.b}`;
      this.twins[index] = lastWithEffect.get(effect) ?? -1;
      lastWithEffect.set(effect, index);
    });
    [this.nextNode, this.prevNode] = linkedInOrder(this.count + 2);
  }

  previousTwin(index: number): number {
    return this.twins[index] ?? -1;
  }

  first(): number {
    return (this.nextNode[0] ?? 1) - 1;
  }

  next(index: number): number {
    return (this.nextNode[index + 1] ?? 1) - 1;
  }

  callTime(index: number): number {
    return this.callTimes[index] ?? Number.POSITIVE_INFINITY;
  }

  code(index: number): StepCode {
    return (this.codes[index] ?? 0) as StepCode;
  }

  operandA(index: number): number {
    return this.a[index] ?? 0;
  }

  step(index: number, state: number): number {
    return step(this.code(index), this.a[index] ?? 0, this.b[index] ?? 0, state);
  }

  lift(index: number): void {
    unlink(this.nextNode, this.prevNode, index + 1);
  }

  unlift(index: number): void {
    relink(this.nextNode, this.prevNode, index + 1);
  }
}

/** Stable sort key for returns; only ok operations, which always have one, reach the lists. */
function returnTimeOf(op: Operation): number {
  if (op.return === undefined) throw new Error(`Operation ${op.id} has status "${op.status}" but no return time`);
  return op.return;
}

/** Next and previous links for nodes 0..nodes-1 chained in order (the last node links to itself). */
function linkedInOrder(nodes: number): [Int32Array, Int32Array] {
  const next = new Int32Array(nodes);
  const prev = new Int32Array(nodes);
  for (let node = 0; node < nodes; node++) {
    next[node] = Math.min(node + 1, nodes - 1);
    prev[node] = Math.max(node - 1, 0);
  }
  return [next, prev];
}

function unlink(next: Int32Array, prev: Int32Array, node: number): void {
  const before = prev[node] ?? 0;
  const after = next[node] ?? 0;
  next[before] = after;
  prev[after] = before;
}

/** Reinserts a node unlinked last: its own links still name its old neighbours. */
function relink(next: Int32Array, prev: Int32Array, node: number): void {
  next[prev[node] ?? 0] = node;
  prev[next[node] ?? 0] = node;
}
