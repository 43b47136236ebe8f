/**
 * Developer tool: decode the .text (or another section) of FILE with our decoder and compare
 * with GNU objdump line by line. Prints mismatches grouped by objdump mnemonic.
 *
 *   npx tsx --conditions=@xmc/source scripts/objdiff.ts FILE [--intel] [--32] [--section .text] [--show N]
 *
 * Symbol annotations (`<sym>`) and RIP comments are stripped on both sides.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { decode, formatAtt, formatIntel, Instruction } from "../src/index.ts";

const args = process.argv.slice(2);
const file = args.find((a, i) => !a.startsWith("--") && !(args[i - 1] ?? "").match(/^--(section|show)$/))!;
const intel = args.includes("--intel");
const mode = args.includes("--32") ? 32 : 64;
const section = args.includes("--section") ? args[args.indexOf("--section") + 1]! : ".text";
const show = args.includes("--show") ? Number(args[args.indexOf("--show") + 1]) : 3;

const hdr = execFileSync("objdump", ["-h", file], { encoding: "utf8" });
const esc = section.replace(/\./g, "\\.");
const m = new RegExp(`\\s${esc}\\s+([0-9a-f]+)\\s+([0-9a-f]+)\\s+[0-9a-f]+\\s+([0-9a-f]+)`).exec(hdr);
if (!m) throw new Error(`no section ${section} in ${file}`);
const size = Number.parseInt(m[1]!, 16);
const vma = Number.parseInt(m[2]!, 16);
const off = Number.parseInt(m[3]!, 16);
const bytes = readFileSync(file).subarray(off, off + size);
const odArgs = ["-d", "-j", section, "--no-show-raw-insn", "-w", ...(intel ? ["-M", "intel"] : []), file];
const dis = execFileSync("objdump", odArgs, { encoding: "utf8", maxBuffer: 1 << 30 });
const strip = (s: string) => s.replace(/\s+<[^>]*>/g, "").replace(/\s+#.*$/, "").trimEnd();
const ref = new Map<number, string>();
for (const line of dis.split("\n")) {
  const mm = /^\s*([0-9a-f]+):\t(.*)$/.exec(line);
  if (mm) ref.set(Number.parseInt(mm[1]!, 16), strip(mm[2]!));
}
const insn = new Instruction();
let p = 0;
let n = 0;
let bad = 0;
let boundary = 0;
const counts = new Map<string, number>();
const fmt = intel ? formatIntel : formatAtt;
while (p < bytes.length) {
  const ip = vma + p;
  const len = decode(bytes, p, ip, mode, insn);
  const r = ref.get(ip);
  if (r === undefined) boundary++;
  const t = len ? strip(fmt(insn, { symbolize: () => undefined })) : "(bad)";
  n++;
  if (r !== undefined && t !== r) {
    bad++;
    const key = r.split(/\s+/)[0] ?? "";
    const c = (counts.get(key) ?? 0) + 1;
    counts.set(key, c);
    if (c <= show) {
      const hex = Buffer.from(bytes.subarray(p, p + (len || 8))).toString("hex");
      console.log(`${ip.toString(16)} ${hex}\n   objdump: ${r}\n   ours:    ${t}`);
    }
  }
  p += len || 1;
}
console.log(`instructions ${n}, text mismatches ${bad}, boundary mismatches ${boundary}`);
console.log(
  [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 80)
    .map(([k, v]) => `${k}:${v}`)
    .join(" "),
);
