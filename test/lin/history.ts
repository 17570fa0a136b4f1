/**
 * The history format the checker reads: one JSON object per line, one line per client operation.
 * This file owns the types and the validation, so the search can trust every field it reads; it
 * never judges whether a history is linearizable.
 */

export type OpKind = "read" | "write" | "cas" | "delete";
export type OpStatus = "ok" | "fail" | "unknown";

export interface Operation {
  /** Unique within the history. */
  id: number;
  /** The client (process) that issued it; one client has at most one op in flight. */
  client: number;
  key: string;
  kind: OpKind;
  /** Invoke time, in any monotonic unit (for example microseconds). */
  call: number;
  /** Completion time; absent when status is "unknown". Invariant: return >= call. */
  return?: number;
  /**
   * ok: completed with the result below. fail: definitely did not take effect. unknown: may have
   * taken effect at any time after call, or never.
   */
  status: OpStatus;
  /** write/cas: the value written. read: the value read (null = key absent). */
  value?: string | null;
  /** cas: the value compared against (null = key must be absent). */
  expected?: string | null;
  /** cas with status ok: whether the compare matched (and so the write happened). */
  swapped?: boolean;
}

/** A malformed history: the message names the line (or the operation) and the field at fault. */
export class HistoryError extends Error {
  override readonly name = "HistoryError";
  constructor(
    message: string,
    /** 1-based line of the JSON-lines input, when the history came from text. */
    readonly line: number | undefined = undefined,
  ) {
    super(message);
  }
}

const KINDS: readonly OpKind[] = ["read", "write", "cas", "delete"];
const STATUSES: readonly OpStatus[] = ["ok", "fail", "unknown"];

/** Parses JSON lines into operations; blank lines are skipped, every other line must be one operation. */
export function parseHistory(jsonl: string): Operation[] {
  const ops: Operation[] = [];
  const lineOfId = new Map<number, number>();
  const lines = jsonl.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const text = (lines[index] ?? "").trim();
    if (text === "") continue;
    const line = index + 1;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new HistoryError(`Line ${line}: not valid JSON (${reason})`, line);
    }
    const op = parseOperationAt(value, `Line ${line}`, line);
    const firstLine = lineOfId.get(op.id);
    if (firstLine !== undefined) {
      throw new HistoryError(`Line ${line}: operation id ${op.id} is already used on line ${firstLine}`, line);
    }
    lineOfId.set(op.id, line);
    ops.push(op);
  }
  return ops;
}

/** Formats operations as JSON lines with a fixed field order, so that parseHistory reads them back equal. */
export function formatHistory(ops: readonly Operation[]): string {
  return ops.map((op) => JSON.stringify(canonicalFields(op)) + "\n").join("");
}

/**
 * Throws a HistoryError naming `where` unless every operation is well formed and ids are unique.
 * checkHistory calls it: a malformed history from the simulator is a bug there, not a verdict.
 */
export function validateHistory(ops: readonly Operation[]): void {
  const seen = new Set<number>();
  for (const op of ops) {
    parseOperationAt(op, `Operation ${JSON.stringify(op.id)}`, undefined);
    if (seen.has(op.id)) throw new HistoryError(`Operation id ${op.id} appears more than once`);
    seen.add(op.id);
  }
}

function parseOperationAt(value: unknown, where: string, line: number | undefined): Operation {
  try {
    return parseOperation(value);
  } catch (error) {
    if (error instanceof HistoryError) throw new HistoryError(`${where}: ${error.message}`, line);
    throw error;
  }
}

/** Validates one decoded JSON value; extra fields are ignored so that recorders may add their own. */
function parseOperation(value: unknown): Operation {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HistoryError(`expected a JSON object, got ${describeJson(value)}`);
  }
  const fields = value as Record<string, unknown>;
  const kind = oneOf(fields, "kind", KINDS);
  const status = oneOf(fields, "status", STATUSES);
  const op: Operation = {
    id: integer(fields, "id"),
    client: integer(fields, "client"),
    key: string(fields, "key"),
    kind,
    call: finite(fields, "call"),
    status,
  };
  readReturn(fields, op);
  readResult(fields, op);
  return op;
}

function readReturn(fields: Record<string, unknown>, op: Operation): void {
  if (fields["return"] === undefined) {
    if (op.status === "ok") throw new HistoryError(`"return" is required when status is "ok"`);
    return;
  }
  if (op.status === "unknown") {
    throw new HistoryError(`"return" must be absent when status is "unknown" (the outcome was never seen)`);
  }
  const returnTime = finite(fields, "return");
  if (returnTime < op.call) {
    throw new HistoryError(`"return" ${returnTime} is before "call" ${op.call}`);
  }
  op.return = returnTime;
}

/** Each kind carries exactly the result fields its semantics need (see the Operation fields). */
function readResult(fields: Record<string, unknown>, op: Operation): void {
  const valueRequired = op.kind === "write" || op.kind === "cas" || (op.kind === "read" && op.status === "ok");
  if (op.kind === "delete" && fields["value"] !== undefined) throw new HistoryError(`"value" must be absent for a delete`);
  if (valueRequired || fields["value"] !== undefined) op.value = nullableString(fields, "value");
  if (op.kind !== "cas") {
    for (const name of ["expected", "swapped"]) {
      if (fields[name] !== undefined) throw new HistoryError(`"${name}" is only allowed on a cas, not a ${op.kind}`);
    }
    return;
  }
  op.expected = nullableString(fields, "expected");
  const swapped = fields["swapped"];
  if (swapped === undefined && op.status !== "ok") return;
  if (typeof swapped !== "boolean") {
    throw new HistoryError(`"swapped" must be true or false on a cas with status "ok", got ${describeJson(swapped)}`);
  }
  op.swapped = swapped;
}

function canonicalFields(op: Operation): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    id: op.id,
    client: op.client,
    key: op.key,
    kind: op.kind,
    call: op.call,
  };
  if (op.return !== undefined) fields["return"] = op.return;
  fields["status"] = op.status;
  if (op.value !== undefined) fields["value"] = op.value;
  if (op.expected !== undefined) fields["expected"] = op.expected;
  if (op.swapped !== undefined) fields["swapped"] = op.swapped;
  return fields;
}

function integer(fields: Record<string, unknown>, name: string): number {
  const value = fields[name];
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new HistoryError(`"${name}" must be an integer, got ${describeJson(value)}`);
  }
  return value;
}

function finite(fields: Record<string, unknown>, name: string): number {
  const value = fields[name];
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new HistoryError(`"${name}" must be a finite number, got ${describeJson(value)}`);
  }
  return value;
}

function string(fields: Record<string, unknown>, name: string): string {
  const value = fields[name];
  if (typeof value !== "string") throw new HistoryError(`"${name}" must be a string, got ${describeJson(value)}`);
  return value;
}

function nullableString(fields: Record<string, unknown>, name: string): string | null {
  const value = fields[name];
  if (typeof value !== "string" && value !== null) {
    throw new HistoryError(`"${name}" must be a string or null, got ${describeJson(value)}`);
  }
  return value;
}

function oneOf<T extends string>(fields: Record<string, unknown>, name: string, allowed: readonly T[]): T {
  const value = fields[name];
  const match = allowed.find((candidate) => candidate === value);
  if (match === undefined) {
    const choices = allowed.map((candidate) => `"${candidate}"`).join(", ");
    throw new HistoryError(`"${name}" must be one of ${choices}, got ${describeJson(value)}`);
  }
  return match;
}

function describeJson(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}
