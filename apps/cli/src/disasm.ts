/**
 * `xmc disasm`: objdump-style disassembly of an ELF file's executable sections.
 */
import { type ElfFile, type ElfSection, type ElfSymbol, parseElf, SHF, SHN, STT } from "@xmc/elf";
import { decode, formatAtt, formatIntel, Instruction } from "@xmc/x86-decode";
import { UsageError } from "./errors.ts";

/** Options of `xmc disasm`. */
export interface DisasmOptions {
  syntax: "att" | "intel";
  section?: string | undefined;
  start?: number | undefined;
  stop?: number | undefined;
  json: boolean;
}

/** Symbols for labels and `<sym+off>`: objdump's candidates (not FILE/SECTION, defined, in a section). */
class Labels {
  private readonly addrs: number[];
  private readonly names: string[];
  constructor(symbols: readonly ElfSymbol[]) {
    const best = new Map<number, ElfSymbol>();
    for (const s of symbols) {
      if (s.type === STT.FILE || s.type === STT.SECTION) continue;
      if (s.sectionIndex === SHN.UNDEF || s.sectionIndex === SHN.ABS || s.name === "") continue;
      const a = Number(s.value);
      const cur = best.get(a);
      // objdump sorts equal-valued symbols: functions first, then global, weak, local, then by name
      // (byte order), and names the first.
      if (!cur || rank(s) > rank(cur) || (rank(s) === rank(cur) && s.name < cur.name)) best.set(a, s);
    }
    const sorted = [...best.entries()].sort((x, y) => x[0] - y[0]);
    this.addrs = sorted.map((e) => e[0]);
    this.names = sorted.map((e) => e[1].name);
  }
  /** Name of a symbol starting exactly at `a`. */
  at(a: number): string | undefined {
    const i = this.index(a);
    return i >= 0 && this.addrs[i] === a ? this.names[i] : undefined;
  }
  /** `name` or `name+0xoff` for the nearest symbol at or before `a` within [lo, hi). */
  describe(a: number, lo: number, hi: number): string | undefined {
    const i = this.index(a);
    if (i < 0) return undefined;
    const base = this.addrs[i]!;
    if (base < lo || a >= hi) return undefined;
    const off = a - base;
    return off === 0 ? this.names[i] : `${this.names[i]}+0x${off.toString(16)}`;
  }
  private index(a: number): number {
    let lo = 0;
    let hi = this.addrs.length - 1;
    let r = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.addrs[mid]! <= a) {
        r = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return r;
  }
}

function rank(s: ElfSymbol): number {
  // Plain functions first (objdump does not count IFUNCs as functions), then data objects,
  // then GLOBAL > WEAK > LOCAL.
  const type = s.type === STT.FUNC ? 8 : s.type === STT.OBJECT ? 4 : 0;
  const bind = s.bind === 1 ? 2 : s.bind === 2 ? 1 : 0;
  return type + bind;
}

const HEXB: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Disassemble `bytes` (an ELF file) and write objdump-style text or JSON lines to `write`. */
export function disasm(
  path: string,
  bytes: Uint8Array,
  opts: DisasmOptions,
  write: (s: string) => void,
): number {
  const elf: ElfFile = parseElf(bytes);
  if (elf.machine !== 62 && elf.machine !== 3)
    throw new UsageError(
      `${path}: machine ${elf.machineName} is not x86 (only x86-64 and i386 are supported)`,
    );
  const mode = elf.class === 64 ? 64 : 32;
  const sections = elf.sections.filter((s: ElfSection) =>
    opts.section ? s.name === opts.section : (Number(s.flags) & SHF.EXECINSTR) !== 0 && s.type !== 8,
  );
  if (opts.section && sections.length === 0)
    throw new UsageError(`${path}: no section named ${opts.section}`);
  let symbols: readonly ElfSymbol[] = [];
  try {
    symbols = elf.symbols();
    if (symbols.length === 0) symbols = elf.dynamicSymbols();
  } catch {
    symbols = [];
  }
  const labels = new Labels(symbols);
  const fmt = opts.syntax === "intel" ? formatIntel : formatAtt;
  const insn = new Instruction();
  let count = 0;
  if (!opts.json) {
    write(`\n${path}:     file format ${mode === 64 ? "elf64-x86-64" : "elf32-i386"}\n\n`);
  }
  for (const sec of sections) {
    const data = elf.sectionData(sec);
    const base = Number(sec.addr);
    const end = base + data.length;
    const symbolize = (a: number) => {
      const inSec = a >= base && a < end;
      const d = labels.describe(a, inSec ? base : 0, inSec ? end : Number.MAX_SAFE_INTEGER);
      return d ?? (inSec ? `${sec.name}+0x${(a - base).toString(16)}` : undefined);
    };
    if (!opts.json) write(`\nDisassembly of section ${sec.name}:\n`);
    let p = 0;
    const first = labels.at(base);
    if (!opts.json && first === undefined && (opts.start === undefined || opts.start <= base))
      write(`\n${base.toString(16).padStart(mode === 64 ? 16 : 8, "0")} <${sec.name}>:\n`);
    while (p < data.length) {
      const ip = base + p;
      if (opts.stop !== undefined && ip >= opts.stop) break;
      const name = labels.at(ip);
      const inRange = opts.start === undefined || ip >= opts.start;
      if (name !== undefined && inRange && !opts.json)
        write(`\n${ip.toString(16).padStart(mode === 64 ? 16 : 8, "0")} <${name}>:\n`);
      // objdump skips runs of zero bytes ("...") of 8 or more, or reaching the next symbol/end.
      let z = 0;
      while (p + z < data.length && data[p + z] === 0 && (z === 0 || labels.at(ip + z) === undefined)) z++;
      const reachesEnd = p + z >= data.length || labels.at(ip + z) !== undefined;
      if (z >= 8 || (reachesEnd && z >= 4)) {
        if (inRange && !opts.json) write("\t...\n");
        p += z;
        continue;
      }
      const len = decode(data, p, ip, mode, insn);
      const n = len > 0 ? len : 1;
      if (inRange) {
        const text = len > 0 ? fmt(insn, { symbolize }) : "(bad)";
        if (opts.json) {
          let hex = "";
          for (let i = 0; i < n; i++) hex += HEXB[data[p + i]!];
          write(`${JSON.stringify({ addr: `0x${ip.toString(16)}`, len: n, bytes: hex, text })}\n`);
        } else {
          let line = `${ip.toString(16).padStart(8, " ")}:\t`;
          const firstChunk = Math.min(n, 7);
          let bytesText = "";
          for (let i = 0; i < firstChunk; i++) bytesText += `${HEXB[data[p + i]!]} `;
          line += `${bytesText.padEnd(21, " ")}\t${text}\n`;
          for (let i = 7; i < n; i += 7) {
            let more = "";
            for (let j = i; j < Math.min(n, i + 7); j++) more += `${HEXB[data[p + j]!]} `;
            line += `${(ip + i).toString(16).padStart(8, " ")}:\t${more}\n`;
          }
          write(line);
        }
        count++;
      }
      p += n;
    }
  }
  return count;
}
