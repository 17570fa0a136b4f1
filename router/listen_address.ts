// Binding a server to a "host:port" flag ("[::1]:2379" for IPv6), with a message that names an example
// when the address is not one, and the port the OS chose when asked for 0.

import type { Server } from "node:net";

/** Listens on `listen` and resolves with "host:port" as bound; `what` and `example` word the refusal. */
export async function listenOn(server: Server, listen: string, what: string, example: string): Promise<string> {
  const colon = listen.lastIndexOf(":");
  const port = Number(listen.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new RangeError(`Cannot serve ${what} on "${listen}": give host:port, for example ${example}`);
  }
  const host = listen.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address();
  const boundPort = typeof bound === "object" && bound !== null ? bound.port : port;
  return `${listen.slice(0, colon)}:${boundPort}`;
}
