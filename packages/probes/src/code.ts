/**
 * Out-of-line code: the slot a kprobe runs its displaced instruction in, the detour buffer an
 * optimized probe jumps to, the kretprobe trampoline, and the arena they are carved from
 * (executable memory allocated near the probed code; pieces are never reused, since a freed
 * piece must never run again).
 *
 * A kprobe slot (64 bytes) holds the displaced instruction twice:
 *
 *     +0   copy; int3               the post-handler point; the handler resumes at site+len
 *     +32  copy; jmp site+len       boosted: no second trap
 *
 * A detour buffer (the jump at the site leads here; a jump, not a call, so the red zone below
 * the interrupted function's RSP is skipped first):
 *
 *     lea -0x80(%rsp),%rsp; pushfq; push rax rcx rdx rbx rbp rsi rdi r8..r15
 *     mov $id,%eax; vmcall                     the host call runs the probe's handlers
 *     pop r15..r8 rdi rsi rbp rbx rdx rcx rax; popfq; lea 0x80(%rsp),%rsp
 *     <the region's instructions, relocated>   DETOUR_RELOCATED: entered here by the INT3
 *     jmp site+L                                handler while the jump is being (un)written
 *
 * (encodings: Intel SDM vol. 2 — LEA 8D /r, PUSHFQ 9C, POPFQ 9D, PUSH 50+r / 41 50+r,
 * POP 58+r / 41 58+r, MOV B8+r id, VMCALL 0F 01 C1, JMP E9 cd, INT3 CC).
 * @module
 */
import { encodeJmp32 } from "@xmc/x86-decode";

/** Bytes of a kprobe slot; the boosted copy starts at {@link SLOT_BOOSTED}. */
export const SLOT_SIZE: number = 64;
export const SLOT_BOOSTED: number = 32;
/** Bytes reserved per detour buffer. */
export const DETOUR_SIZE: number = 128;
/** Offset of the relocated instructions in a detour buffer. */
export const DETOUR_RELOCATED: number = 69;
/** The registers the detour saves, in push order (RSP is not pushed). */
export const DETOUR_PUSHED: readonly number[] = [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
/** Bytes from the host call's RSP to the probed code's RSP (15 registers, RFLAGS, red zone). */
export const DETOUR_RSP_OFFSET: number = 15 * 8 + 8 + 128;

/** Offset from the host call's RSP of the saved register `r` (0-15, not 4), or of RFLAGS (-1). */
export function detourSlotOf(r: number): number {
  if (r === -1) return 15 * 8;
  const i = DETOUR_PUSHED.indexOf(r);
  if (i < 0) throw new RangeError(`register ${r} is not saved by the detour`);
  return (DETOUR_PUSHED.length - 1 - i) * 8;
}

/** The kprobe slot for `copy` (already relocated for `at`) displaced from `site`. */
export function slotBytes(at: number, site: number, copyAt0: Uint8Array, copyAt32: Uint8Array): Uint8Array {
  const b = new Uint8Array(SLOT_SIZE).fill(0xcc);
  b.set(copyAt0, 0);
  b[copyAt0.length] = 0xcc;
  b.set(copyAt32, SLOT_BOOSTED);
  const len = copyAt32.length;
  b.set(encodeJmp32(at + SLOT_BOOSTED + len, site + len), SLOT_BOOSTED + len);
  return b;
}

/** The detour for a region of `regionLen` bytes at `site`, with `relocated` (already fixed for its place). */
export function detourBytes(
  at: number,
  site: number,
  regionLen: number,
  id: number,
  relocated: Uint8Array,
): Uint8Array {
  const out: number[] = [0x48, 0x8d, 0x64, 0x24, 0x80, 0x9c];
  for (const r of DETOUR_PUSHED) out.push(...(r < 8 ? [0x50 + r] : [0x41, 0x50 + r - 8]));
  out.push(0xb8, id & 0xff, (id >>> 8) & 0xff, (id >>> 16) & 0xff, (id >>> 24) & 0xff, 0x0f, 0x01, 0xc1);
  for (const r of [...DETOUR_PUSHED].reverse()) out.push(...(r < 8 ? [0x58 + r] : [0x41, 0x58 + r - 8]));
  out.push(0x9d, 0x48, 0x8d, 0xa4, 0x24, 0x80, 0x00, 0x00, 0x00);
  // SAFETY: the layout above is DETOUR_RELOCATED bytes long (checked by the tests).
  out.push(...relocated);
  out.push(...encodeJmp32(at + out.length, site + regionLen));
  if (out.length > DETOUR_SIZE) throw new RangeError("detour buffer overflow");
  return Uint8Array.from(out);
}

/** Executable memory in chunks near the code, handed out once (never reused). */
export class CodeArena {
  private chunk = 0;
  private used = 0;
  constructor(
    private readonly alloc: (near: number, size: number) => number,
    private readonly chunkSize = 0x10000,
  ) {}

  /** `size` fresh bytes (16-byte aligned) within ±2 GiB of `near`. */
  take(near: number, size: number): number {
    const need = (size + 15) & ~15;
    const far = this.chunk !== 0 && Math.abs(this.chunk - near) > 0x7f000000;
    if (this.chunk === 0 || this.used + need > this.chunkSize || far) {
      this.chunk = this.alloc(near, this.chunkSize);
      this.used = 0;
    }
    const at = this.chunk + this.used;
    this.used += need;
    return at;
  }
}
