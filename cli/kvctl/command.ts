// What every kvctl command shares: the global flags, the context a handler runs in (the cluster
// client, the printer, the Ctrl-C signal), and the wrapper that turns a handler's outcome into an
// exit code. Handlers return an exit code or throw; only this file prints errors and exits.

import { ClusterClient } from "./client.js";
import { describeError, toKvctlError } from "./errors.js";
import { ExitCode } from "./exit_codes.js";
import { parseDurationMs } from "./flag_values.js";
import { interrupted } from "./interrupt.js";
import { defaultFormat, type Format, Printer } from "./output.js";

/** The flags every command takes (kvctl.ts declares them). */
export interface GlobalArgs {
  readonly endpoints: string;
  readonly output: Format | undefined;
  readonly "dial-timeout": string;
  readonly "command-timeout": string;
}

export interface Context {
  readonly client: ClusterClient;
  readonly out: Printer;
  /** Fires on Ctrl-C (SIGINT) or SIGTERM. */
  readonly signal: AbortSignal;
}

export const DEFAULT_ENDPOINTS = "127.0.0.1:2379,127.0.0.1:22379,127.0.0.1:32379";

/** `--endpoints a,b` (also `http://a`, as etcdctl's users type them) as host:port strings. */
export function parseEndpoints(text: string): string[] {
  return text
    .split(",")
    .map((endpoint) => endpoint.trim().replace(/^https?:\/\//, "").replace(/\/$/, ""))
    .filter((endpoint) => endpoint !== "");
}

/**
 * A yargs handler from a kvctl handler: builds the context, runs it, prints a failure on stderr, and
 * exits with the code. Exiting (rather than letting the loop drain) is what ends a command whose
 * gRPC channels or child process would otherwise keep it alive.
 */
export function action<A extends GlobalArgs>(what: string, handler: (args: A, context: Context) => Promise<number | void>): (args: A) => Promise<void> {
  return async (args) => {
    let code: number;
    let client: ClusterClient | undefined;
    try {
      client = new ClusterClient({
        endpoints: parseEndpoints(args.endpoints),
        dialTimeoutMs: parseDurationMs(args["dial-timeout"], "--dial-timeout"),
        commandTimeoutMs: parseDurationMs(args["command-timeout"], "--command-timeout"),
      });
      const out = new Printer(args.output ?? defaultFormat(process.stdout.isTTY === true));
      code = (await handler(args, { client, out, signal: interrupted() })) ?? ExitCode.ok;
    } catch (error) {
      const failure = toKvctlError(error, what);
      process.stderr.write(describeError(failure));
      code = failure.exitCode;
    }
    client?.close();
    process.exit(code);
  };
}
