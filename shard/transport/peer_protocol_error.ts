// What a peer sent that this node cannot read: a bug or a version skew, never a reason to stop. It
// came off the wire, so it is an error the receiver counts, logs and drops, not an assertion.

import { wire } from "../../proto/index.js";

/** A peer sent something this node cannot read: a bug or a version skew, not a reason to stop. */
export class PeerProtocolError extends Error {
  override readonly name = "PeerProtocolError";
}

/** An error a decoder threw, as a PeerProtocolError; anything else is a bug and goes on up. */
export function asProtocolError(error: unknown, context: string): PeerProtocolError {
  if (error instanceof PeerProtocolError) return error;
  if (error instanceof wire.MalformedBytes) return new PeerProtocolError(`${context}: ${error.message}`);
  if (error instanceof RangeError) return new PeerProtocolError(`${context}: the bytes end early (${error.message})`);
  throw error;
}
