// One error type for everything kvctl reports: a message that names the cause, a hint that says what
// to do, and the exit code. gRPC failures are translated here, once, keeping the server's own hint
// (the `shardkv-hint` trailer) so that the person at the terminal sees what the server advised.

import * as grpc from "@grpc/grpc-js";
import { ExitCode } from "./exit_codes.js";

/**
 * The trailer the server puts its hint in. router/errors.ts owns the name (HINT_METADATA_KEY); it is
 * repeated here so that kvctl loads only proto/ and grpc-js, not the server's modules (a test checks
 * that the two agree).
 */
export const HINT_TRAILER = "shardkv-hint";

export class KvctlError extends Error {
  override readonly name = "KvctlError";
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }

  static usage(message: string, hint?: string): KvctlError {
    return new KvctlError(ExitCode.usage, message, hint);
  }

  static notFound(message: string, hint?: string): KvctlError {
    return new KvctlError(ExitCode.notFound, message, hint);
  }
}

/** grpc-js rejects calls with an Error carrying code, details and metadata. */
export function isServiceError(error: unknown): error is grpc.ServiceError {
  return error instanceof Error && typeof (error as Partial<grpc.ServiceError>).code === "number" && "details" in error;
}

const GRPC_EXIT: Partial<Record<grpc.status, ExitCode>> = {
  [grpc.status.NOT_FOUND]: ExitCode.notFound,
  [grpc.status.UNAVAILABLE]: ExitCode.unavailable,
  [grpc.status.DEADLINE_EXCEEDED]: ExitCode.unavailable,
};

/** What to do when the server did not say, by status. */
const DEFAULT_HINTS: Partial<Record<grpc.status, string>> = {
  [grpc.status.UNAVAILABLE]: "retry in a moment; if it persists, check the nodes with `kvctl endpoint health`",
  [grpc.status.DEADLINE_EXCEEDED]: "the cluster did not answer in time: retry, or raise --command-timeout",
  [grpc.status.RESOURCE_EXHAUSTED]: "the node is overloaded or a limit was hit: slow down and retry, or see `shardkv --help` for the limits",
  [grpc.status.UNIMPLEMENTED]: "this node does not serve that call; see README.md for what shardkv supports",
};

/** Any failure as a KvctlError; `what` names the action for the message ("get \"a\""). */
export function toKvctlError(error: unknown, what: string): KvctlError {
  if (error instanceof KvctlError) return error;
  if (isServiceError(error)) {
    const trailer = error.metadata?.get(HINT_TRAILER)[0];
    const hint = typeof trailer === "string" && trailer !== "" ? trailer : DEFAULT_HINTS[error.code];
    const status = grpc.status[error.code] ?? String(error.code);
    const details = error.details === "" ? error.message : error.details;
    // shardkv's own messages already say "Cannot <action>: <why>"; etcd's ("etcdserver: ...") do not.
    const message = /^Cannot /.test(details) ? details : `Cannot ${what}: ${details}`;
    return new KvctlError(GRPC_EXIT[error.code] ?? ExitCode.other, `${message} (${status})`, hint);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new KvctlError(ExitCode.other, `Cannot ${what}: ${message}`);
}

/** The two lines printed on stderr for a failure. */
export function describeError(error: KvctlError): string {
  return `kvctl: ${error.message}\n${error.hint === undefined ? "" : `hint: ${error.hint}\n`}`;
}
