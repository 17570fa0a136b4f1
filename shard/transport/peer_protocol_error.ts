// What a peer sent that this node cannot read: a bug or a version skew, never a reason to stop. It
// came off the wire, so it is an error the receiver counts, logs and drops, not an assertion.

/** A peer sent something this node cannot read: a bug or a version skew, not a reason to stop. */
export class PeerProtocolError extends Error {
  override readonly name = "PeerProtocolError";
}
