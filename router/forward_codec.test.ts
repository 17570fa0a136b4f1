import { describe, expect, it } from "vitest";
import { ETCD_ERRORS, MvccError } from "../shard/mvcc/index.js";
import { decodeForward, encodeForward, ForwardCodecError } from "./forward_codec.js";

describe("the forwarded payload codec", () => {
  it("brings back bytes, 64-bit integers and nested objects as they were", () => {
    const value = {
      key: new Uint8Array([0, 1, 255]),
      lease: 0x7fff_ffff_ffff_fff1n,
      list: [{ value: new Uint8Array() }, 3, "text", null, true],
      nested: { deeper: { id: 1n } },
    };
    expect(decodeForward(encodeForward(value))).toEqual(value);
  });

  it("drops undefined fields, which the router's objects treat as absent", () => {
    expect(decodeForward(encodeForward({ a: 1, b: undefined }))).toEqual({ a: 1 });
  });

  it("brings back a state machine refusal as an MvccError with its code and etcd's string", () => {
    const decoded = decodeForward(encodeForward({ ok: false, error: new MvccError("OUT_OF_RANGE", ETCD_ERRORS.compacted) })) as { error: unknown };
    expect(decoded.error).toBeInstanceOf(MvccError);
    expect(decoded.error).toMatchObject({ code: "OUT_OF_RANGE", message: ETCD_ERRORS.compacted });
  });

  it("refuses bytes that are not its JSON, and an error with an unknown code", () => {
    expect(() => decodeForward(Buffer.from("\x00garbage"))).toThrow(ForwardCodecError);
    expect(() => decodeForward(Buffer.from(JSON.stringify({ $e: { code: "BOGUS", message: "x" } })))).toThrow(ForwardCodecError);
  });
});
