// Ctrl-C (SIGINT) and SIGTERM as an AbortSignal, so that a command that waits (watch, lock, elect,
// keep-alive) can cancel its calls, release what it holds and exit 0. A second Ctrl-C exits at once
// (130, the shell's code for SIGINT) in case the clean-up itself hangs on a dead cluster.

const controller = new AbortController();
let installed = false;

/** The signal that fires on the first SIGINT or SIGTERM. Installs the handlers on first use. */
export function interrupted(): AbortSignal {
  if (!installed) {
    installed = true;
    const onSignal = (): void => {
      if (controller.signal.aborted) process.exit(130);
      controller.abort();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  }
  return controller.signal;
}

/** Resolves when `signal` fires (at once if it has). */
export function whenAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}
