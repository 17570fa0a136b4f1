// The bytes of a streamed snapshot: a sequence of chunks, each a batch of key/value pairs of one
// replica (keys without the replica's prefix), closed by a trailer with the count of pairs and a
// CRC32C over all of them. A receiver that gets a wrong count or checksum throws the staging away.
//   data chunk:    u8 1 | (u32 key bytes | key | u32 value bytes | value)*
//   trailer chunk: u8 2 | u48 pairs | u48 bytes | u32 crc32c

import { crc32c } from "@node-rs/crc32";

export const CHUNK_DATA = 1;
export const CHUNK_END = 2;

export interface SnapshotTrailer {
  readonly pairs: number;
  readonly bytes: number;
  readonly crc: number;
}

export class SnapshotFormatError extends Error {
  override readonly name = "SnapshotFormatError";
}

/** Builds data chunks of about `chunkBytesMax` and keeps the running totals for the trailer. */
export class ChunkWriter {
  private parts: Buffer[] = [];
  private partBytes = 0;
  private pairs = 0;
  private bytes = 0;
  private crc = 0;

  constructor(private readonly chunkBytesMax: number) {}

  /** Adds a pair; returns a full chunk when this pair filled one. */
  add(key: Uint8Array, value: Uint8Array): Uint8Array | undefined {
    const head = Buffer.allocUnsafe(4);
    head.writeUInt32LE(key.byteLength, 0);
    const mid = Buffer.allocUnsafe(4);
    mid.writeUInt32LE(value.byteLength, 0);
    const pair = [head, Buffer.from(key.buffer, key.byteOffset, key.byteLength), mid, Buffer.from(value.buffer, value.byteOffset, value.byteLength)];
    for (const part of pair) {
      this.crc = crc32c(part, this.crc);
      this.parts.push(part);
      this.partBytes += part.length;
    }
    this.pairs++;
    this.bytes += key.byteLength + value.byteLength;
    return this.partBytes >= this.chunkBytesMax ? this.flush() : undefined;
  }

  /** The pending pairs as a chunk, if there are any. */
  flush(): Uint8Array | undefined {
    if (this.parts.length === 0) return undefined;
    const chunk = Buffer.concat([Buffer.from([CHUNK_DATA]), ...this.parts]);
    this.parts = [];
    this.partBytes = 0;
    return chunk;
  }

  trailer(): Uint8Array {
    const chunk = Buffer.allocUnsafe(1 + 6 + 6 + 4);
    chunk[0] = CHUNK_END;
    chunk.writeUIntLE(this.pairs, 1, 6);
    chunk.writeUIntLE(this.bytes, 7, 6);
    chunk.writeUInt32LE(this.crc, 13);
    return chunk;
  }
}

export type DecodedChunk =
  | { readonly kind: "data"; readonly pairs: readonly (readonly [Uint8Array, Uint8Array])[]; readonly crc: number; readonly bytes: number }
  | { readonly kind: "end"; readonly trailer: SnapshotTrailer };

/** Decodes one chunk; `crc` continues the running checksum of the pairs seen so far. */
export function decodeChunk(chunk: Uint8Array, crc: number): DecodedChunk {
  const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (buf.length === 0) throw new SnapshotFormatError("an empty snapshot chunk");
  if (buf[0] === CHUNK_END) {
    if (buf.length !== 17) throw new SnapshotFormatError(`a snapshot trailer of ${buf.length} bytes, expected 17`);
    return { kind: "end", trailer: { pairs: buf.readUIntLE(1, 6), bytes: buf.readUIntLE(7, 6), crc: buf.readUInt32LE(13) } };
  }
  if (buf[0] !== CHUNK_DATA) throw new SnapshotFormatError(`unknown snapshot chunk kind ${buf[0]}`);
  const pairs: (readonly [Uint8Array, Uint8Array])[] = [];
  let bytes = 0;
  let at = 1;
  const take = (): Uint8Array => {
    if (at + 4 > buf.length) throw new SnapshotFormatError(`a snapshot chunk is cut short at byte ${at}`);
    const length = buf.readUInt32LE(at);
    if (at + 4 + length > buf.length) throw new SnapshotFormatError(`a field of ${length} bytes runs past the chunk's end at byte ${at}`);
    crc = crc32c(buf.subarray(at, at + 4 + length), crc);
    const field = buf.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    bytes += length;
    return field;
  };
  while (at < buf.length) {
    const key = take();
    pairs.push([key, take()]);
  }
  return { kind: "data", pairs, crc, bytes };
}
