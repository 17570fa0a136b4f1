// kvctl's exit codes: what a script can rely on. Kept in one table so the help epilogue, the README
// and the code that exits can never disagree; a new kind of failure picks one of these, never a new
// number, because scripts already branch on them.

export const ExitCode = {
  /** The command did what was asked. */
  ok: 0,
  /** The key (or lease, or leader) was not there, or a compare (txn, put --if-version) did not hold. */
  notFound: 1,
  /** The command line was wrong: unknown flag, missing argument, bad value. Nothing was sent. */
  usage: 2,
  /** No endpoint answered, or the cluster could not serve the request now (no leader, deadline). */
  unavailable: 3,
  /** Anything else the server refused or failed with. */
  other: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The `kvctl --help` epilogue; cli/README.md repeats it. */
export const EXIT_CODES_HELP = [
  "Exit codes:",
  "  0  success",
  "  1  not found (get, del, lease ttl, ...) or compare failed (txn, put --if-version)",
  "  2  usage: a bad flag or argument; nothing was sent",
  "  3  unavailable: no endpoint answered, no leader, or the deadline passed",
  "  4  any other error",
].join("\n");
