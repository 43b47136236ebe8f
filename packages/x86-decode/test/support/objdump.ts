/**
 * Differential comparison with GNU objdump: decode a section of an ELF file with our decoder
 * and compare instruction boundaries and text with `objdump -d` line by line. Used by the
 * differential tests and by `scripts/objdiff.ts`.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { decode, formatAtt, formatIntel, Instruction } from "../../src/index.ts";

export interface Mismatch {
  address: number;
  hex: string;
  objdump: string;
  ours: string;
}

export interface CompareResult {
  /** Instructions objdump printed in the section. */
  objdumpCount: number;
  /** Instructions we decoded. */
  ourCount: number;
  /** Our instruction starts that objdump does not have, and vice versa. */
  boundaryMismatches: number[];
  /** Same start, different text. */
  textMismatches: Mismatch[];
}

/** Strip symbol annotations `<sym>` and trailing RIP comments, as both sides are compared without them. */
export function stripAnnotations(s: string): string {
  return s
    .replace(/\s+<[^>]*>/g, "")
    .replace(/\s+#.*$/, "")
    .trimEnd();
}

/** Section size, address and file offset from `objdump -h`. */
export function sectionInfo(file: string, section: string): { size: number; vma: number; offset: number } {
  const hdr = execFileSync("objdump", ["-h", file], { encoding: "utf8" });
  const esc = section.replace(/\./g, "\\.");
  const m = new RegExp(`\\s${esc}\\s+([0-9a-f]+)\\s+([0-9a-f]+)\\s+[0-9a-f]+\\s+([0-9a-f]+)`).exec(hdr);
  if (!m) throw new Error(`no section ${section} in ${file}`);
  return {
    size: Number.parseInt(m[1]!, 16),
    vma: Number.parseInt(m[2]!, 16),
    offset: Number.parseInt(m[3]!, 16),
  };
}

/** Compare our decoding of `section` of `file` with objdump's. */
export function compareWithObjdump(
  file: string,
  opts: { section?: string; intel?: boolean; mode?: 32 | 64 } = {},
): CompareResult {
  const section = opts.section ?? ".text";
  const mode = opts.mode ?? 64;
  const { size, vma, offset } = sectionInfo(file, section);
  const bytes = readFileSync(file).subarray(offset, offset + size);
  const args = [
    "-d",
    "-j",
    section,
    "--no-show-raw-insn",
    "-w",
    ...(opts.intel ? ["-M", "intel"] : []),
    file,
  ];
  const dis = execFileSync("objdump", args, { encoding: "utf8", maxBuffer: 1 << 30 });
  const ref = new Map<number, string>();
  for (const line of dis.split("\n")) {
    const mm = /^\s*([0-9a-f]+):\t(.*)$/.exec(line);
    if (mm) ref.set(Number.parseInt(mm[1]!, 16), stripAnnotations(mm[2]!));
  }
  const insn = new Instruction();
  const fmt = opts.intel ? formatIntel : formatAtt;
  const ours = new Set<number>();
  const textMismatches: Mismatch[] = [];
  let p = 0;
  while (p < bytes.length) {
    const ip = vma + p;
    const len = decode(bytes, p, ip, mode, insn);
    ours.add(ip);
    const r = ref.get(ip);
    const t = len ? stripAnnotations(fmt(insn, { symbolize: () => undefined })) : "(bad)";
    if (r !== undefined && t !== r) {
      const hex = Buffer.from(bytes.subarray(p, p + (len || 1))).toString("hex");
      textMismatches.push({ address: ip, hex, objdump: r, ours: t });
    }
    p += len || 1;
  }
  const boundaryMismatches: number[] = [];
  for (const a of ref.keys()) if (!ours.has(a)) boundaryMismatches.push(a);
  for (const a of ours) if (!ref.has(a)) boundaryMismatches.push(a);
  return { objdumpCount: ref.size, ourCount: ours.size, boundaryMismatches, textMismatches };
}

export interface KnownDifference {
  objdump: RegExp;
  ours: RegExp;
  why: string;
  line: number;
}

/** Read the known-differences file: `objdump-regex <TAB> our-regex <TAB> explanation` per line. */
export function loadKnownDifferences(path: string): KnownDifference[] {
  const out: KnownDifference[] = [];
  readFileSync(path, "utf8")
    .split("\n")
    .forEach((raw, i) => {
      const line = raw.trimEnd();
      if (!line || line.startsWith("#")) return;
      const [o, u, why] = line.split("\t");
      if (!o || !u || !why) throw new Error(`${path}:${i + 1}: need three tab-separated fields`);
      out.push({ objdump: new RegExp(`^${o}$`), ours: new RegExp(`^${u}$`), why, line: i + 1 });
    });
  return out;
}

/** The known difference that explains a mismatch, if any. */
export function explain(m: Mismatch, known: KnownDifference[]): KnownDifference | undefined {
  return known.find((k) => k.objdump.test(m.objdump) && k.ours.test(m.ours));
}
