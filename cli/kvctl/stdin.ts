// Reading what was piped in: a value for `put KEY` without VALUE, a transaction for `txn`. Refuses a
// terminal, where reading would silently wait for input the person does not know is wanted.

import { KvctlError } from "./errors.js";

export async function readStdin(what: string): Promise<Buffer> {
  if (process.stdin.isTTY === true) throw KvctlError.usage(`No ${what} given`, `pass it as an argument, or pipe it in: echo ... | kvctl ...`);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks);
}
