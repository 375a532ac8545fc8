// A client-side WebSocket frame (RFC 6455: FIN set, masked), shared by the raw-socket clients of
// the tests and the load harness, which read their sockets at a pace they choose.

/**
 * Encodes one masked client frame.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const f = maskedFrame(1, new TextEncoder().encode("hi"));
 * assert.equal(f[0], 0x81);
 * assert.equal(f[1], 0x80 | 2);
 * assert.equal(f.length, 2 + 4 + 2);
 * ```
 */
export function maskedFrame(op: number, payload: Uint8Array): Uint8Array {
  const len = payload.length;
  const hdr = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const frame = new Uint8Array(hdr + 4 + len);
  frame[0] = 0x80 | op;
  if (hdr === 2) frame[1] = 0x80 | len;
  else if (hdr === 4) {
    frame[1] = 0x80 | 126;
    frame[2] = len >> 8;
    frame[3] = len & 255;
  } else {
    frame[1] = 0x80 | 127;
    new DataView(frame.buffer).setBigUint64(2, BigInt(len));
  }
  const mask = crypto.getRandomValues(new Uint8Array(4));
  frame.set(mask, hdr);
  for (let i = 0; i < len; i++) frame[hdr + 4 + i] = payload[i] ^ mask[i & 3];
  return frame;
}
