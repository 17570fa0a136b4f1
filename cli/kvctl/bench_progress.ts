// The progress bar `kvctl bench` shows on stderr while it runs, so a 20 s run does not look hung; only
// on a terminal, since in a pipe or a log the redraws would be noise around the report on stdout.

import { SingleBar } from "cli-progress";

export interface ProgressBar {
  update(value: number, payload: Readonly<Record<string, string | number>>): void;
  stop(): void;
}

const NONE: ProgressBar = { update: () => undefined, stop: () => undefined };

/** A bar of `total` steps with the named fields of `format`, or nothing when stderr is not a terminal. */
export function progressBar(format: string, total: number, payload: Readonly<Record<string, string | number>>): ProgressBar {
  if (process.stderr.isTTY !== true) return NONE;
  const bar = new SingleBar({ format: `{bar} ${format}`, stream: process.stderr, hideCursor: true, clearOnComplete: true, fps: 5 });
  bar.start(total, 0, payload);
  return {
    update: (value, fields) => bar.update(value, fields),
    stop: () => bar.stop(),
  };
}
