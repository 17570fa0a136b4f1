// For the tests: the real `kvctl` run from source as a child process (node --import tsx), once to its
// end (`runKvctl`) or long-lived with its output gathered as it comes (`KvctlProcess`: watch, lock,
// elect), stopped with SIGINT as Ctrl-C would.

import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";

const CLI = resolve(import.meta.dirname, "../../cli/kvctl.ts");

export interface KvctlResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly endpoints?: string;
  /** Written to stdin, which is then closed. */
  readonly input?: string | Buffer;
  readonly env?: Readonly<Record<string, string>>;
}

function start(args: readonly string[], options: RunOptions): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  if (options.endpoints !== undefined) env["SHARDKV_ENDPOINTS"] = options.endpoints;
  const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
  if (options.input !== undefined) child.stdin!.write(options.input);
  child.stdin!.end();
  return child;
}

export function runKvctl(args: readonly string[], options: RunOptions = {}): Promise<KvctlResult> {
  return new KvctlProcess(args, options).exited;
}

export class KvctlProcess {
  stdout = "";
  stderr = "";
  private readonly child: ChildProcess;
  readonly exited: Promise<KvctlResult>;

  constructor(args: readonly string[], options: RunOptions = {}) {
    this.child = start(args, options);
    this.child.stdout!.on("data", (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr!.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.on("close", (code) => resolve({ code, stdout: this.stdout, stderr: this.stderr })));
  }

  /** Resolves once stdout (or stderr) matches, failing after `timeoutMs` with what was printed. */
  async waitFor(pattern: RegExp, stream: "stdout" | "stderr" = "stdout", timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this[stream])) {
      if (Date.now() > deadline) throw new Error(`kvctl printed no ${pattern} on ${stream} within ${timeoutMs} ms; stdout: ${this.stdout} stderr: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** SIGINT, as Ctrl-C. */
  interrupt(): void {
    if (this.child.exitCode === null) this.child.kill("SIGINT");
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
  }
}
