// The shared resource that lock holders write to: it keeps the writes it accepted in arrival order
// and refuses a write whose fencing token is lower than the highest it has seen (Kleppmann's fencing).
// It only records; lock_check.ts judges what it recorded.

export interface FencedWrite {
  readonly holder: number;
  readonly token: number;
  readonly phase: "begin" | "end";
  readonly atMs: number;
}

export class FencedResource {
  readonly accepted: FencedWrite[] = [];
  readonly refused: FencedWrite[] = [];
  private highest = 0;

  write(entry: FencedWrite): boolean {
    if (entry.token < this.highest) {
      this.refused.push(entry);
      return false;
    }
    this.highest = entry.token;
    this.accepted.push(entry);
    return true;
  }
}
