// Bytes that are not a protobuf encoding of the message a hand-written decoder expected. It came off
// the wire, so it is the sender's fault, never an assertion: grpc-js answers a request whose
// deserializer throws with INTERNAL ("Error deserializing request"), as it did for proto-loader's.

/** A message's bytes cannot be read; the message says which message, how many bytes and why. */
export class MalformedMessage extends Error {
  override readonly name = "MalformedMessage";
}
