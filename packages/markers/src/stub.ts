/**
 * Stubs: the out-of-line code an enabled 5-byte site jumps to. The site becomes `jmp stub`
 * (not `call`: a call would push into the red zone of the interrupted function), and the stub
 * steps over the red zone, saves RAX, makes the host call, and goes back:
 *
 *     48 8d 64 24 80            lea    -0x80(%rsp),%rsp      skip the red zone (128 bytes)
 *     50                        push   %rax
 *     b8 <id32>                 mov    $id,%eax              the site's host-call id
 *     0f 01 c1                  vmcall
 *     58                        pop    %rax
 *     48 8d a4 24 80 00 00 00   lea    0x80(%rsp),%rsp
 *     e9 <rel32>                jmp    site+5
 *
 * (encodings: Intel SDM vol. 2, LEA 8D /r, PUSH 50+r, MOV B8+r id, VMCALL 0F 01 C1, POP 58+r,
 * JMP E9 cd). LEA leaves the flags alone and the host call changes nothing but what the probes
 * see, so the interrupted code sees every register and flag as it left them. At the host call,
 * the site's RAX is at [RSP] and its RSP is RSP + 8 + 128.
 * @module
 */

/** Bytes of one stub. */
export const STUB_SIZE: number = 28;
/** Stubs are laid out in slots of this many bytes. */
export const STUB_SLOT: number = 32;
/** Bytes between the host call's RSP and the site's RSP. */
export const STUB_RSP_OFFSET: number = 8 + 128;

/** The stub for a 5-byte site at `site`, placed at `at`, making host call `id`. */
export function stubBytes(at: number, site: number, id: number): Uint8Array {
  const b = new Uint8Array(STUB_SIZE);
  const v = new DataView(b.buffer);
  b.set([0x48, 0x8d, 0x64, 0x24, 0x80, 0x50, 0xb8], 0);
  v.setUint32(7, id >>> 0, true);
  b.set([0x0f, 0x01, 0xc1, 0x58, 0x48, 0x8d, 0xa4, 0x24, 0x80, 0x00, 0x00, 0x00, 0xe9], 11);
  const rel = site + 5 - (at + STUB_SIZE);
  if (rel < -0x80000000 || rel > 0x7fffffff) throw new RangeError("stub out of jmp rel32 reach of its site");
  v.setInt32(24, rel, true);
  return b;
}

/**
 * Executable memory for stubs, in chunks allocated near the code; slots are handed out once
 * and never reused (a freed stub's bytes must never run again: precise mode reports executing
 * freed text).
 */
export class StubArena {
  private chunk = 0;
  private used = 0;
  private readonly chunkSize: number;

  constructor(
    private readonly alloc: (near: number, size: number) => number,
    chunkSize = 0x10000,
  ) {
    this.chunkSize = chunkSize;
  }

  /** A fresh slot within ±2 GiB of `near`. */
  take(near: number): number {
    const far = this.chunk !== 0 && Math.abs(this.chunk - near) > 0x7f000000;
    if (this.chunk === 0 || this.used + STUB_SLOT > this.chunkSize || far) {
      this.chunk = this.alloc(near, this.chunkSize);
      this.used = 0;
    }
    const at = this.chunk + this.used;
    this.used += STUB_SLOT;
    return at;
  }
}
