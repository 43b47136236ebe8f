/**
 * Loading a static x86-64 ELF program into a fresh address space: PT_LOAD segments with their
 * permissions, the initial stack with argv, envp and the auxiliary vector (System V x86-64
 * psABI §3.4.1; auxv types from the Linux UAPI auxvec.h).
 * @module
 */
import { ElfError, type ElfFile, PT, parseElf } from "@xmc/elf";
import type { Memory } from "../memory.ts";
import { MemoryLimitError, PAGE_SIZE, Perm } from "../memory.ts";

/** Why a program cannot be loaded (clear, user-facing). */
export class LoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LoadError";
  }
}

/** Where things ended up. */
export interface LoadedImage {
  entry: number;
  /** Initial RSP (points at argc). */
  sp: number;
  /** Initial program break (end of the highest PT_LOAD, page-aligned). */
  brk: number;
  /** Load bias (0 for ET_EXEC). */
  base: number;
  /** Lowest and highest stack address mapped. */
  stackLow: number;
  stackHigh: number;
}

/** Top of the initial stack (one page below the canonical limit, as Linux does). */
export const STACK_TOP: number = 0x7ffffffff000;
/** Stack size mapped (Linux's default RLIMIT_STACK). */
export const STACK_SIZE: number = 8 * 1024 * 1024;
/** End of the user half of the canonical address space (segments must lie below it). */
export const USER_TOP: number = 2 ** 47;
/** Where a static-pie program is placed. */
export const PIE_BASE: number = 0x555555554000;

const AT_NULL = 0;
const AT_PHDR = 3;
const AT_PHENT = 4;
const AT_PHNUM = 5;
const AT_PAGESZ = 6;
const AT_BASE = 7;
const AT_FLAGS = 8;
const AT_ENTRY = 9;
const AT_UID = 11;
const AT_EUID = 12;
const AT_GID = 13;
const AT_EGID = 14;
const AT_PLATFORM = 15;
const AT_HWCAP = 16;
const AT_CLKTCK = 17;
const AT_SECURE = 23;
const AT_RANDOM = 25;
const AT_HWCAP2 = 26;
const AT_EXECFN = 31;

/**
 * Load `bytes` (a static x86-64 ELF executable) into `mem`. `random16` are the 16 bytes of
 * AT_RANDOM (from the run's seed). Throws LoadError for anything we cannot run.
 */
export function loadStatic(
  mem: Memory,
  bytes: Uint8Array,
  argv: string[],
  envp: string[],
  random16: Uint8Array,
  execfn: string,
): LoadedImage {
  let elf: ElfFile;
  try {
    elf = parseElf(bytes);
  } catch (e) {
    throw new LoadError(`${execfn}: ${(e as Error).message}`);
  }
  if (elf.class !== 64 || elf.machine !== 62)
    throw new LoadError(`${execfn}: not an x86-64 program (${elf.class}-bit ${elf.machineName})`);
  let interp: string | undefined;
  try {
    interp = elf.interpreter();
  } catch (e) {
    if (e instanceof ElfError) throw new LoadError(`${execfn}: ${e.message}`);
    throw e;
  }
  if (interp !== undefined)
    throw new LoadError(
      `${execfn}: dynamically linked (interpreter ${interp}); only static programs are supported — build with -static`,
    );
  if (elf.type !== 2 && elf.type !== 3)
    throw new LoadError(`${execfn}: not an executable (ELF type ${elf.typeName})`);
  const base = elf.type === 3 ? PIE_BASE : 0;
  const loads = elf.segments.filter((s) => s.type === PT.LOAD);
  if (loads.length === 0) throw new LoadError(`${execfn}: no loadable segments`);
  let end = 0;
  let phdrAddr = 0;
  for (const seg of loads) {
    // Checked as Linux's ELF loader does (binfmt_elf: filesz <= memsz, inside the user half).
    if (seg.filesz > seg.memsz)
      throw new LoadError(
        `${execfn}: segment ${seg.index} has more file bytes (${seg.filesz}) than memory bytes (${seg.memsz})`,
      );
    if (seg.vaddr + BigInt(base) + BigInt(seg.memsz) > BigInt(USER_TOP))
      throw new LoadError(`${execfn}: segment ${seg.index} lies outside the user address space`);
    const vaddr = Number(seg.vaddr) + base;
    const start = Math.floor(vaddr / PAGE_SIZE) * PAGE_SIZE;
    const stop = Math.ceil((vaddr + seg.memsz) / PAGE_SIZE) * PAGE_SIZE;
    let data: Uint8Array;
    try {
      data = elf.segmentData(seg);
      // Map writable first so that the loader can copy, then apply the segment's permissions.
      mem.map(start, stop - start, Perm.RW);
    } catch (e) {
      if (e instanceof ElfError) throw new LoadError(`${execfn}: ${e.message}`);
      if (e instanceof MemoryLimitError)
        throw new LoadError(`${execfn}: segment ${seg.index} (${seg.memsz} bytes) passes the ${e.message}`);
      throw e;
    }
    mem.writeBytes(vaddr, data);
    let perm = 0;
    if (seg.flags & 4) perm |= Perm.R;
    if (seg.flags & 2) perm |= Perm.W;
    if (seg.flags & 1) perm |= Perm.X;
    mem.protect(start, stop - start, perm);
    end = Math.max(end, stop);
    // AT_PHDR: the program headers inside the first segment that contains them.
    const phoff = elf.header.phoff;
    if (phoff >= seg.offset && phoff < seg.offset + seg.filesz) phdrAddr = vaddr + (phoff - seg.offset);
  }
  const phdr = elf.segments.find((s) => s.type === PT.PHDR);
  if (phdr) phdrAddr = Number(phdr.vaddr) + base;

  // ---- the initial stack -----------------------------------------------------------------
  const stackLow = STACK_TOP - STACK_SIZE;
  try {
    mem.map(stackLow, STACK_SIZE, Perm.RW);
  } catch (e) {
    if (e instanceof MemoryLimitError)
      throw new LoadError(`${execfn}: no room for the ${STACK_SIZE}-byte stack: ${e.message}`);
    throw e;
  }
  let sp = STACK_TOP;
  const enc = new TextEncoder();
  const pushBytes = (b: Uint8Array): number => {
    sp -= b.length;
    mem.writeBytes(sp, b);
    return sp;
  };
  const pushString = (s: string): number => pushBytes(new Uint8Array([...enc.encode(s), 0]));
  const execfnAddr = pushString(execfn);
  const envAddrs = envp.map(pushString);
  const argAddrs = argv.map(pushString);
  const platform = pushString("x86_64");
  sp = Math.floor(sp / 16) * 16;
  const randomAddr = pushBytes(random16);
  sp = Math.floor(sp / 16) * 16;
  const auxv: [number, number][] = [
    [AT_PHDR, phdrAddr],
    [AT_PHENT, elf.header.phentsize],
    [AT_PHNUM, elf.header.phnum],
    [AT_PAGESZ, PAGE_SIZE],
    [AT_BASE, 0],
    [AT_FLAGS, 0],
    [AT_ENTRY, Number(elf.entry) + base],
    [AT_UID, 1000],
    [AT_EUID, 1000],
    [AT_GID, 1000],
    [AT_EGID, 1000],
    [AT_PLATFORM, platform],
    [AT_HWCAP, 0],
    [AT_CLKTCK, 100],
    [AT_SECURE, 0],
    [AT_RANDOM, randomAddr],
    [AT_HWCAP2, 0],
    [AT_EXECFN, execfnAddr],
    [AT_NULL, 0],
  ];
  const words: number[] = [argv.length, ...argAddrs, 0, ...envAddrs, 0];
  for (const [k, v] of auxv) words.push(k, v);
  if (words.length % 2 === 1) words.push(0); // keep RSP 16-byte aligned at entry
  sp -= words.length * 8;
  sp = Math.floor(sp / 16) * 16;
  const buf = new Uint8Array(words.length * 8);
  const dv = new DataView(buf.buffer);
  words.forEach((w, i) => {
    dv.setUint32(i * 8, w % 4294967296, true);
    dv.setUint32(i * 8 + 4, Math.floor(w / 4294967296), true);
  });
  mem.writeBytes(sp, buf);
  return { entry: Number(elf.entry) + base, sp, brk: end, base, stackLow, stackHigh: STACK_TOP };
}
