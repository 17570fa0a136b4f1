/**
 * Hand-made histories for the tests, one call per operation. `at` is [call, return] for an operation
 * that completed, [call] for one whose outcome is unknown; `fail` records one that did not happen.
 */
import type { Operation } from "./history.js";

export type Interval = readonly [call: number, returned: number] | readonly [call: number];

export class HistoryBuilder {
  readonly ops: Operation[] = [];
  private nextId = 1;

  read(client: number, key: string, value: string | null, at: Interval): Operation {
    return this.add({ client, key, kind: "read", ...(at.length === 2 ? { value } : {}) }, at);
  }

  write(client: number, key: string, value: string, at: Interval): Operation {
    return this.add({ client, key, kind: "write", value }, at);
  }

  delete(client: number, key: string, at: Interval): Operation {
    return this.add({ client, key, kind: "delete" }, at);
  }

  /** `swapped` is ignored for an unknown outcome (`at` of length 1). */
  cas(client: number, key: string, expected: string | null, value: string, swapped: boolean, at: Interval): Operation {
    const result = at.length === 2 ? { swapped } : {};
    return this.add({ client, key, kind: "cas", expected, value, ...result }, at);
  }

  /** A write that definitely did not take effect. */
  failedWrite(client: number, key: string, value: string, at: readonly [number, number]): Operation {
    return this.add({ client, key, kind: "write", value }, at, "fail");
  }

  private add(fields: Omit<Operation, "id" | "call" | "status">, at: Interval, status?: "fail"): Operation {
    const [call, returned] = at;
    const outcome = status ?? (returned === undefined ? "unknown" : "ok");
    const op: Operation = { id: this.nextId++, ...fields, call, status: outcome };
    if (returned !== undefined) op.return = returned;
    this.ops.push(op);
    return op;
  }
}
