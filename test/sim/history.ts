// The clients' record of what they asked and what they were told, in the linearizability checker's
// format, so that a simulated history and one from a real cluster are checked by the same code.

import type { Operation } from "../lin/history.js";

export class HistoryRecorder {
  readonly operations: Operation[] = [];
  private nextId = 1;

  invoke(op: Omit<Operation, "id" | "status" | "return">): Operation {
    const recorded: Operation = { ...op, id: this.nextId++, status: "unknown" };
    this.operations.push(recorded);
    return recorded;
  }

  complete(op: Operation, time: number, result: Partial<Pick<Operation, "value" | "swapped">>): void {
    op.status = "ok";
    op.return = time;
    if (result.value !== undefined) op.value = result.value;
    if (result.swapped !== undefined) op.swapped = result.swapped;
  }

  /** The operation definitely did not take effect (it was refused before being proposed). */
  fail(op: Operation, time: number): void {
    op.status = "fail";
    op.return = time;
  }

  count(status: Operation["status"]): number {
    return this.operations.filter((o) => o.status === status).length;
  }
}
