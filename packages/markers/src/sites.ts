/**
 * Marker sites in an ELF program: our markers (`.note.xmc`, see include/xmc/marker.h), USDT
 * probes (`.note.stapsdt`, with their semaphores), and function-entry sites from
 * `-fpatchable-function-entry=5` (`__patchable_function_entries`: five 1-byte NOPs) and from
 * `-pg -mfentry -mnop-mcount -mrecord-mcount` (`__mcount_loc`: one 5-byte NOP).
 * @module
 */
import { type ElfFile, parseStapsdtNotes, parseUsdtArguments, STT, type UsdtArgument } from "@xmc/elf";
import { MarkerError } from "./errors.ts";
import { formatForSpecs, formatProblem } from "./format.ts";

/**
 * How a site is built and enabled:
 * - `nop5`, `jmp2`, `fentry`: 5 bytes (a NOP5, `jmp .+5` over a NOP3, an mcount NOP5) patched
 *   into a `jmp` to a stub;
 * - `usdt`, `patchable`: a 1-byte NOP whose byte becomes INT3 (the handler steps over it);
 * - `call`: a flag word the host writes (non-zero: the host-call id), no text change.
 */
export type SiteKind = "nop5" | "jmp2" | "call" | "usdt" | "fentry" | "patchable";

/** One marker site. */
export interface MarkerSite {
  /** Provider (`func` for function-entry sites). */
  readonly provider: string;
  /** Name (the function's name for function-entry sites). */
  readonly name: string;
  readonly kind: SiteKind;
  /** Address of the site's first byte (for `call`: the VMCALL). */
  readonly address: number;
  /** Bytes the site occupies in the fast path (what enabling replaces). */
  readonly length: number;
  /** The marker's format; for USDT and function entries, one derived from the specs. */
  readonly format: string;
  /** True when `format` was derived from the argument specs (USDT, function entries). */
  readonly derivedFormat: boolean;
  /** Argument specs as recorded (`-4@%edi 8@-8(%rbp)`). */
  readonly argsText: string;
  readonly args: readonly UsdtArgument[];
  /** `call` markers: address of the 32-bit flag word. */
  readonly flag?: number;
  /** USDT: address of the 16-bit semaphore (absent when none). */
  readonly semaphore?: number;
  /** The function the site is in, when the symbol table says. */
  readonly function?: string;
  /** That function's address. */
  readonly functionAddress?: number;
  /** What is wrong with the site's description (e.g. a format that does not fit), if anything. */
  readonly problem?: string;
}

/** Owner and type of our marker notes. */
export const XMC_NOTE_OWNER: string = "xmc";
export const NT_XMC_MARKER: number = 1;

/** The full name `provider:name`. */
export function siteName(s: { provider: string; name: string }): string {
  return `${s.provider}:${s.name}`;
}

function u64(b: Uint8Array, o: number): number {
  const v = new DataView(b.buffer, b.byteOffset + o, 8);
  return v.getUint32(4, true) * 4294967296 + v.getUint32(0, true);
}

function cstr(b: Uint8Array, o: number, what: string): [string, number] {
  const end = b.indexOf(0, o);
  if (end < 0) throw new MarkerError("note", `xmc marker note: ${what} is not NUL-terminated`);
  return [new TextDecoder().decode(b.subarray(o, end)), end + 1];
}

/** Read a NUL-terminated string at virtual address `addr` of the file (bounded). */
function stringAt(elf: ElfFile, addr: number, max = 4096): string | undefined {
  const off = elf.addressToOffset(BigInt(addr));
  if (off === undefined) return undefined;
  const bytes = elf.bytes.subarray(off, Math.min(elf.bytes.length, off + max));
  const end = bytes.indexOf(0);
  if (end < 0) return undefined;
  return new TextDecoder().decode(bytes.subarray(0, end));
}

/** Function symbols sorted by address, for "which function is this site in". */
function functionIndex(elf: ElfFile): { name: string; start: number; end: number }[] {
  const out: { name: string; start: number; end: number }[] = [];
  for (const s of elf.symbols()) {
    if (s.type !== STT.FUNC || s.value === 0n || s.name === "") continue;
    const start = Number(s.value);
    out.push({ name: s.name, start, end: start + Math.max(1, s.size) });
  }
  out.sort((a, b) => a.start - b.start || a.name.localeCompare(b.name));
  return out;
}

function enclosing(
  fns: { name: string; start: number; end: number }[],
  addr: number,
): { name: string; start: number } | undefined {
  let lo = 0;
  let hi = fns.length - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (fns[mid]!.start <= addr) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  // Several symbols may share a start (aliases): take any that contains the address.
  for (let i = best; i >= 0 && fns[i]!.start === fns[best]!.start; i--) if (addr < fns[i]!.end) return fns[i];
  return undefined;
}

function addressList(elf: ElfFile, section: string): number[] {
  const s = elf.sectionByName(section);
  if (!s) return [];
  const data = elf.sectionData(s);
  if (data.length % 8 !== 0)
    throw new MarkerError("note", `${section}: size ${data.length} is not a multiple of 8`);
  const out: number[] = [];
  for (let o = 0; o < data.length; o += 8) out.push(u64(data, o));
  return out;
}

/**
 * Every marker site of `elf`, sorted by address: our markers, USDT probes, function entries.
 * Throws `MarkerError("note")` for a malformed `.note.xmc` note (bad sizes, missing strings);
 * a site whose format does not fit its arguments is listed with `problem` set.
 */
export function discoverSites(elf: ElfFile): MarkerSite[] {
  if (elf.class !== 64) return [];
  const fns = functionIndex(elf);
  const inFn = (addr: number) => {
    const f = enclosing(fns, addr);
    return f ? { function: f.name, functionAddress: f.start } : {};
  };
  const out: MarkerSite[] = [];
  for (const n of elf.notes()) {
    if (n.name !== XMC_NOTE_OWNER || n.type !== NT_XMC_MARKER) continue;
    const d = n.desc;
    if (d.length < 24 + 4) throw new MarkerError("note", `xmc marker note at offset ${n.offset}: too short`);
    const address = u64(d, 0);
    const flag = u64(d, 8);
    const fmtAddr = u64(d, 16);
    const [provider, o1] = cstr(d, 24, "provider");
    const [name, o2] = cstr(d, o1, "name");
    const [kind, o3] = cstr(d, o2, "kind");
    const [argsText] = cstr(d, o3, "arguments");
    if (kind !== "nop5" && kind !== "jmp2" && kind !== "call")
      throw new MarkerError("note", `xmc marker note ${provider}:${name}: unknown kind "${kind}"`);
    const format = stringAt(elf, fmtAddr);
    if (format === undefined)
      throw new MarkerError(
        "note",
        `xmc marker note ${provider}:${name}: format address 0x${fmtAddr.toString(16)} is not a string in the file`,
      );
    const args = parseUsdtArguments(argsText, 8, "x86");
    const problem = formatProblem(format, args);
    out.push({
      provider,
      name,
      kind,
      address,
      length: kind === "call" ? 3 : 5,
      format,
      derivedFormat: false,
      argsText,
      args,
      ...(kind === "call" ? { flag } : {}),
      ...inFn(address),
      ...(problem ? { problem } : {}),
    });
  }
  for (const p of parseStapsdtNotes(elf)) {
    const address = Number(p.pc);
    out.push({
      provider: p.provider,
      name: p.name,
      kind: "usdt",
      address,
      length: 1,
      format: formatForSpecs(p.args),
      derivedFormat: true,
      argsText: p.arguments,
      args: p.args,
      ...(p.semaphore !== 0n ? { semaphore: Number(p.semaphore) } : {}),
      ...inFn(address),
    });
  }
  const entry = (address: number, kind: "fentry" | "patchable"): MarkerSite => {
    const f = inFn(address);
    return {
      provider: "func",
      name: f.function ?? `0x${address.toString(16)}`,
      kind,
      address,
      length: kind === "fentry" ? 5 : 1,
      format: "",
      derivedFormat: true,
      argsText: "",
      args: [],
      ...f,
    };
  };
  for (const a of addressList(elf, "__patchable_function_entries")) out.push(entry(a, "patchable"));
  for (const a of addressList(elf, "__mcount_loc")) out.push(entry(a, "fentry"));
  out.sort((a, b) => a.address - b.address);
  return out;
}
