/**
 * UTF-8 encoding for string fields, written straight into the buffer without allocating.
 *
 * A lone UTF-16 surrogate (not valid Unicode) is encoded as U+FFFD, as `TextEncoder` does.
 * A NUL character cannot be encoded: CTF strings end at the first NUL byte (CTF 1.8 §4.2.5).
 */

/**
 * Number of UTF-8 bytes `s` encodes to (without the terminating NUL), or -1 when `s`
 * contains a NUL character. Allocates nothing.
 */
export function utf8Length(s: string): number {
  let n = 0;
  const len = s.length;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (c === 0) return -1;
      n += 1;
    } else if (c < 0x800) {
      n += 2;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < len) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else {
        n += 3;
      }
    } else {
      n += 3;
    }
  }
  return n;
}

/**
 * Write the UTF-8 bytes of `s` (no NUL) into `u8` at `pos`; returns the position after them.
 * SAFETY: the caller has checked with {@link utf8Length} that `s` has no NUL and fits.
 */
export function encodeUtf8(s: string, u8: Uint8Array, pos: number): number {
  const len = s.length;
  for (let i = 0; i < len; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      u8[pos++] = c;
    } else if (c < 0x800) {
      u8[pos++] = 0xc0 | (c >> 6);
      u8[pos++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = c <= 0xdbff && i + 1 < len ? s.charCodeAt(i + 1) : 0;
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          u8[pos++] = 0xf0 | (c >> 18);
          u8[pos++] = 0x80 | ((c >> 12) & 0x3f);
          u8[pos++] = 0x80 | ((c >> 6) & 0x3f);
          u8[pos++] = 0x80 | (c & 0x3f);
          continue;
        }
        c = 0xfffd;
      }
      u8[pos++] = 0xe0 | (c >> 12);
      u8[pos++] = 0x80 | ((c >> 6) & 0x3f);
      u8[pos++] = 0x80 | (c & 0x3f);
    }
  }
  return pos;
}

const decoder = new TextDecoder();

/** Decode UTF-8 bytes `u8[start, end)` to a string (allocates; read path only). */
export function decodeUtf8(u8: Uint8Array, start: number, end: number): string {
  return decoder.decode(u8.subarray(start, end));
}
