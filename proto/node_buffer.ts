// protobufjs declares a Buffer type of its own, a bare Uint8Array, for what is Node's Buffer at run
// time (BufferReader's bytes, BufferWriter's finish). This gives it back its Node type without a copy.

/** `bytes` as Node's Buffer: itself when it is one (always, from protobufjs under Node), else a view. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
