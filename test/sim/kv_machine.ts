// The simulator's state machine: a tiny key-value map with put and compare-and-set, and a table of
// applied request ids so that a proposal the network duplicated takes effect once (Raft §6.3).

export type KvCommand =
  | { readonly op: "put"; readonly id: string; readonly key: string; readonly value: string }
  | { readonly op: "cas"; readonly id: string; readonly key: string; readonly expected: string | null; readonly value: string };

export interface KvResult {
  readonly id: string;
  /** For cas: whether the compare matched. */
  readonly swapped: boolean;
  /** The command was a duplicate of one already applied. */
  readonly duplicate: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeCommand(command: KvCommand): Uint8Array {
  return encoder.encode(JSON.stringify(command));
}

export function decodeCommand(data: Uint8Array): KvCommand | undefined {
  if (data.byteLength === 0) return undefined; // a leader's empty entry
  return JSON.parse(decoder.decode(data)) as KvCommand;
}

export class KvMachine {
  private readonly values = new Map<string, string>();
  private readonly applied = new Set<string>();

  get(key: string): string | null {
    return this.values.get(key) ?? null;
  }

  apply(command: KvCommand): KvResult {
    if (this.applied.has(command.id)) return { id: command.id, swapped: false, duplicate: true };
    this.applied.add(command.id);
    if (command.op === "put") {
      this.values.set(command.key, command.value);
      return { id: command.id, swapped: true, duplicate: false };
    }
    const swapped = this.get(command.key) === command.expected;
    if (swapped) this.values.set(command.key, command.value);
    return { id: command.id, swapped, duplicate: false };
  }

  serialize(): Uint8Array {
    const values = [...this.values].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return encoder.encode(JSON.stringify({ values, applied: [...this.applied].sort() }));
  }

  static deserialize(data: Uint8Array): KvMachine {
    const machine = new KvMachine();
    if (data.byteLength === 0) return machine;
    const parsed = JSON.parse(decoder.decode(data)) as { values: [string, string][]; applied: string[] };
    for (const [k, v] of parsed.values) machine.values.set(k, v);
    for (const id of parsed.applied) machine.applied.add(id);
    return machine;
  }

  /** A digest of the state, to compare replicas. */
  digest(): string {
    return decoder.decode(this.serialize());
  }
}
