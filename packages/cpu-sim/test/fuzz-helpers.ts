/**
 * Builders for the fuzz and confinement tests: a minimal static x86-64 ELF executable around
 * given code, and x86-64 encodings of the few instructions the tests emit.
 */

/** Where {@link tinyElf} loads the code (the ELF and program headers come first) and data. */
export const CODE_BASE: number = 0x400000;
export const DATA_BASE: number = 0x600000;
/** Offset of the code in the file (and from CODE_BASE): after the 64-byte header and 2 program headers. */
export const CODE_OFFSET: number = 64 + 2 * 56;

/**
 * A static ET_EXEC x86-64 ELF: one R+X PT_LOAD at {@link CODE_BASE} holding the headers and
 * `code` (entry at its first byte), one R+W PT_LOAD of `dataSize` zero bytes at {@link DATA_BASE}.
 */
export function tinyElf(code: Uint8Array, dataSize = 4096): Uint8Array {
  const size = CODE_OFFSET + code.length;
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
  dv.setUint16(16, 2, true); // ET_EXEC
  dv.setUint16(18, 62, true); // EM_X86_64
  dv.setUint32(20, 1, true);
  dv.setBigUint64(24, BigInt(CODE_BASE + CODE_OFFSET), true); // e_entry
  dv.setBigUint64(32, 64n, true); // e_phoff
  dv.setUint16(52, 64, true); // e_ehsize
  dv.setUint16(54, 56, true); // e_phentsize
  dv.setUint16(56, 2, true); // e_phnum
  const ph = (at: number, flags: number, offset: number, vaddr: number, filesz: number, memsz: number) => {
    dv.setUint32(at, 1, true); // PT_LOAD
    dv.setUint32(at + 4, flags, true);
    dv.setBigUint64(at + 8, BigInt(offset), true);
    dv.setBigUint64(at + 16, BigInt(vaddr), true);
    dv.setBigUint64(at + 24, BigInt(vaddr), true);
    dv.setBigUint64(at + 32, BigInt(filesz), true);
    dv.setBigUint64(at + 40, BigInt(memsz), true);
    dv.setBigUint64(at + 48, 0x1000n, true);
  };
  ph(64, 5, 0, CODE_BASE, size, size);
  ph(64 + 56, 6, 0, DATA_BASE, 0, dataSize);
  b.set(code, CODE_OFFSET);
  return b;
}

/** Registers in syscall-argument order: rax (number), rdi, rsi, rdx, r10, r8, r9. */
const MOV_IMM64: readonly (readonly number[])[] = [
  [0x48, 0xb8], // mov rax, imm64
  [0x48, 0xbf], // rdi
  [0x48, 0xbe], // rsi
  [0x48, 0xba], // rdx
  [0x49, 0xba], // r10
  [0x49, 0xb8], // r8
  [0x49, 0xb9], // r9
];

/** Code for `syscall(nr, args...)` with the result stored at `resultAddr` (a 32-bit address). */
export function syscallCode(nr: bigint, args: readonly bigint[], resultAddr: number): number[] {
  const out: number[] = [];
  [nr, ...args].forEach((v, i) => {
    out.push(...MOV_IMM64[i]!);
    const x = BigInt.asUintN(64, v);
    for (let k = 0n; k < 8n; k++) out.push(Number((x >> (8n * k)) & 0xffn));
  });
  out.push(0x0f, 0x05); // syscall
  // mov [resultAddr], rax  (48 89 04 25 disp32)
  out.push(0x48, 0x89, 0x04, 0x25, ...le32(resultAddr));
  return out;
}

/** exit_group(code). */
export function exitCode(code: number): number[] {
  return [0xb8, ...le32(231), 0xbf, ...le32(code), 0x0f, 0x05];
}

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** One syscall of {@link guestCalls}: string arguments become pointers to NUL-terminated copies. */
export interface GuestCall {
  nr: number;
  args: readonly (bigint | number | string)[];
}

/** Where {@link guestCalls} programs store result i (8 bytes each), and a scratch buffer. */
export const RESULTS: number = DATA_BASE;
export const SCRATCH: number = DATA_BASE + 0x1000;

/**
 * A program that makes `calls` in order, storing each result (RAX) at RESULTS + 8 i, then
 * exits with status 0. Data: 0x3000 bytes at DATA_BASE (results, then SCRATCH).
 */
export function guestCalls(calls: readonly GuestCall[]): Uint8Array {
  const enc = new TextEncoder();
  // Every syscallCode is 7 × 10 + 2 + 8 = 80 bytes; the strings follow the code.
  const codeLen = calls.length * 80 + exitCode(0).length;
  let strAt = CODE_BASE + CODE_OFFSET + codeLen;
  const strings: number[] = [];
  const code: number[] = [];
  calls.forEach((call, i) => {
    const args = call.args.map((a) => {
      if (typeof a !== "string") return BigInt.asUintN(64, BigInt(a));
      const at = strAt;
      const bytes = enc.encode(a);
      strings.push(...bytes, 0);
      strAt += bytes.length + 1;
      return BigInt(at);
    });
    while (args.length < 6) args.push(0n);
    code.push(...syscallCode(BigInt(call.nr), args, RESULTS + 8 * i));
  });
  code.push(...exitCode(0));
  return tinyElf(Uint8Array.from([...code, ...strings]), 0x3000);
}
