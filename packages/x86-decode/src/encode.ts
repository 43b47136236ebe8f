/**
 * A small encoder for the instructions that patching writes: `jmp rel8/rel32`, `call rel32`,
 * `jcc rel8/rel32`, `int3`, `ret`, and the recommended multi-byte NOPs of lengths 1 to 11.
 * Displacements are checked: a target out of range is an {@link EncodeError}, never a
 * silently truncated jump. Addresses are numbers (exact below 2^53).
 * @module
 */

/** Why an encoding was refused. */
export class EncodeError extends RangeError {
  /** `out-of-range` (displacement does not fit), `bad-length` (NOP length), `bad-condition`. */
  readonly code: "out-of-range" | "bad-length" | "bad-condition";
  constructor(code: EncodeError["code"], message: string) {
    super(message);
    this.name = "EncodeError";
    this.code = code;
  }
}

/** Condition codes in the order of their encodings (0x70 + cc, 0F 80 + cc). */
export const CONDITIONS: readonly string[] = [
  "o",
  "no",
  "b",
  "ae",
  "e",
  "ne",
  "be",
  "a",
  "s",
  "ns",
  "p",
  "np",
  "l",
  "ge",
  "le",
  "g",
];

function rel(from: number, len: number, to: number, bits: 8 | 32, what: string): number {
  const d = to - (from + len);
  const lim = bits === 8 ? 0x80 : 0x80000000;
  if (!Number.isSafeInteger(d) || d < -lim || d >= lim)
    throw new EncodeError(
      "out-of-range",
      `${what} at 0x${from.toString(16)} cannot reach 0x${to.toString(16)}: displacement ${d} does not fit in rel${bits}`,
    );
  return d;
}

function put32(out: Uint8Array, at: number, v: number): void {
  out[at] = v & 0xff;
  out[at + 1] = (v >> 8) & 0xff;
  out[at + 2] = (v >> 16) & 0xff;
  out[at + 3] = (v >>> 24) & 0xff;
}

/** `jmp rel8` (EB cb), 2 bytes, at address `from` to `to`. Throws EncodeError when out of range. */
export function encodeJmp8(from: number, to: number): Uint8Array {
  const d = rel(from, 2, to, 8, "jmp rel8");
  return Uint8Array.of(0xeb, d & 0xff);
}

/** `jmp rel32` (E9 cd), 5 bytes. Throws EncodeError when out of range. */
export function encodeJmp32(from: number, to: number): Uint8Array {
  const d = rel(from, 5, to, 32, "jmp rel32");
  const out = new Uint8Array(5);
  out[0] = 0xe9;
  put32(out, 1, d);
  return out;
}

/** The shortest `jmp` that reaches `to` (rel8 when it fits, else rel32). */
export function encodeJmp(from: number, to: number): Uint8Array {
  const d = to - (from + 2);
  return d >= -128 && d < 128 ? encodeJmp8(from, to) : encodeJmp32(from, to);
}

/** `call rel32` (E8 cd), 5 bytes. Throws EncodeError when out of range. */
export function encodeCall32(from: number, to: number): Uint8Array {
  const d = rel(from, 5, to, 32, "call rel32");
  const out = new Uint8Array(5);
  out[0] = 0xe8;
  put32(out, 1, d);
  return out;
}

function cc(cond: number | string): number {
  const c = typeof cond === "string" ? CONDITIONS.indexOf(cond.replace(/^j/, "")) : cond;
  if (!Number.isInteger(c) || c < 0 || c > 15)
    throw new EncodeError(
      "bad-condition",
      `unknown condition ${String(cond)} (use 0-15 or one of ${CONDITIONS.join(" ")})`,
    );
  return c;
}

/** `jcc rel8` (70+cc cb), 2 bytes. `cond` is 0–15 or a name like `"ne"`/`"jne"`. */
export function encodeJcc8(cond: number | string, from: number, to: number): Uint8Array {
  const c = cc(cond);
  const d = rel(from, 2, to, 8, `j${CONDITIONS[c]} rel8`);
  return Uint8Array.of(0x70 + c, d & 0xff);
}

/** `jcc rel32` (0F 80+cc cd), 6 bytes. */
export function encodeJcc32(cond: number | string, from: number, to: number): Uint8Array {
  const c = cc(cond);
  const d = rel(from, 6, to, 32, `j${CONDITIONS[c]} rel32`);
  const out = new Uint8Array(6);
  out[0] = 0x0f;
  out[1] = 0x80 + c;
  put32(out, 2, d);
  return out;
}

/** `int3` (CC). */
export function encodeInt3(): Uint8Array {
  return Uint8Array.of(0xcc);
}

/** `ret` (C3). */
export function encodeRet(): Uint8Array {
  return Uint8Array.of(0xc3);
}

// Recommended multi-byte NOP sequences: lengths 1-9 from Intel SDM Vol. 2B, NOP
// ("Recommended Multi-Byte Sequence of NOP Instruction"); 10 and 11 add 66/2E prefixes to the
// 9-byte form's ModRM/SIB/disp32 shape, as the SDM's optimization manual describes.
const NOPS: readonly (readonly number[])[] = [
  [],
  [0x90],
  [0x66, 0x90],
  [0x0f, 0x1f, 0x00],
  [0x0f, 0x1f, 0x40, 0x00],
  [0x0f, 0x1f, 0x44, 0x00, 0x00],
  [0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00],
  [0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00],
  [0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
  [0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
  [0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
  [0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
];

/** The recommended single NOP instruction of `length` bytes (1–11). */
export function encodeNop(length: number): Uint8Array {
  const n = NOPS[length];
  if (!Number.isInteger(length) || length < 1 || !n)
    throw new EncodeError(
      "bad-length",
      `no single NOP instruction of ${length} bytes (1 to 11 are available)`,
    );
  return Uint8Array.from(n);
}

/** Fill `length` bytes with as few recommended NOPs as possible (each at most 11 bytes). */
export function encodeNopFill(length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0)
    throw new EncodeError("bad-length", `cannot fill ${length} bytes with NOPs`);
  const out = new Uint8Array(length);
  let at = 0;
  while (at < length) {
    const n = Math.min(11, length - at);
    out.set(NOPS[n]!, at);
    at += n;
  }
  return out;
}
