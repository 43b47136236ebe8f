/**
 * Benchmark (not a test): the .text of libc.so.6, in one run and on the same bytes:
 * our instructionLength loop, our full decode, our decode + AT&T format, iced-x86's
 * decodeOut loop and iced's Gas formatter. Prints instructions/s and ratios to iced.
 *
 *   npx pnpm@12.4.2 --filter @xmc/x86-decode bench
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
// Measured on the built bundle (dist), as users run it: tsx runs src with per-module getters.
import { decode, formatAtt, Instruction, instructionLength } from "../dist/index.js";
import { sectionInfo } from "../test/support/objdump.ts";

const require = createRequire(import.meta.url);
const iced = require("iced-x86") as typeof import("iced-x86");

const file = process.argv[2] ?? "/usr/lib/x86_64-linux-gnu/libc.so.6";
const { size, vma, offset } = sectionInfo(file, ".text");
const bytes = new Uint8Array(readFileSync(file).subarray(offset, offset + size));

/**
 * Steady state: every loop (ours and iced's alike) first runs for at least WARM_MS so the JIT
 * has tiered up, then the best of `reps` timed runs counts. The first, cold run is kept too.
 */
const warmMs = Number(process.env.BENCH_WARM_MS ?? 1500);
function time(fn: () => number, reps: number): { perSec: number; count: number; coldPerSec: number } {
  const c0 = process.hrtime.bigint();
  const coldCount = fn();
  const coldPerSec = (coldCount / Number(process.hrtime.bigint() - c0)) * 1e9;
  const warmUntil = Date.now() + warmMs;
  while (Date.now() < warmUntil) fn();
  let best = Number.POSITIVE_INFINITY;
  let count = 0;
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    count = fn();
    const ns = Number(process.hrtime.bigint() - t0);
    if (ns < best) best = ns;
  }
  return { perSec: (count / best) * 1e9, count, coldPerSec };
}

const insn = new Instruction();
const lengthLoop = () => {
  let p = 0;
  let n = 0;
  const b = bytes;
  const end = b.length;
  while (p < end) {
    const l = instructionLength(b, p, 64);
    p += l > 0 ? l : 1;
    n++;
  }
  return n;
};
// Module bindings copied to locals: the loops then read registers, not module context slots.
const decodeLoop = () => {
  let p = 0;
  let n = 0;
  const b = bytes;
  const base = vma;
  const out = insn;
  const end = b.length;
  while (p < end) {
    const l = decode(b, p, base + p, 64, out);
    p += l > 0 ? l : 1;
    n++;
  }
  return n;
};
let sink = 0;
const formatLoop = () => {
  let p = 0;
  let n = 0;
  while (p < bytes.length) {
    const l = decode(bytes, p, vma + p, 64, insn);
    if (l > 0) sink += formatAtt(insn).length;
    p += l > 0 ? l : 1;
    n++;
  }
  return n;
};
const icedDecode = () => {
  const d = new iced.Decoder(64, bytes, iced.DecoderOptions.None);
  d.ip = BigInt(vma);
  const i = new iced.Instruction();
  let n = 0;
  while (d.canDecode) {
    d.decodeOut(i);
    n++;
  }
  i.free();
  d.free();
  return n;
};
const icedFormat = () => {
  const d = new iced.Decoder(64, bytes, iced.DecoderOptions.None);
  d.ip = BigInt(vma);
  const f = new iced.Formatter(iced.FormatterSyntax.Gas);
  const i = new iced.Instruction();
  let n = 0;
  while (d.canDecode) {
    d.decodeOut(i);
    sink += f.format(i).length;
    n++;
  }
  i.free();
  f.free();
  d.free();
  return n;
};

const reps = Number(process.env.BENCH_REPS ?? 5);
const rows: [string, { perSec: number; count: number; coldPerSec: number }][] = [
  ["instructionLength loop", time(lengthLoop, reps)],
  ["decode (full)", time(decodeLoop, reps)],
  ["decode + formatAtt", time(formatLoop, Math.max(2, reps >> 1))],
  ["iced-x86 decodeOut", time(icedDecode, reps)],
  ["iced-x86 decode + Gas formatter", time(icedFormat, Math.max(2, reps >> 1))],
];
const icedDec = rows[3]![1].perSec;
const icedFmt = rows[4]![1].perSec;
console.log(
  `${file} .text: ${bytes.length} bytes; Node ${process.version}; ${warmMs} ms warm-up each, then best of ${reps}`,
);
for (const [name, r] of rows) {
  const ref = name.includes("format") || name.includes("formatter") ? icedFmt : icedDec;
  console.log(
    `${name.padEnd(34)} ${(r.perSec / 1e6).toFixed(2).padStart(8)} M insn/s  ${(r.perSec / ref).toFixed(2)}x iced  (${r.count} insns; first cold run ${(r.coldPerSec / 1e6).toFixed(2)} M/s)`,
  );
}
console.log(
  `targets: length >= 3x iced decode: ${(rows[0]![1].perSec / icedDec).toFixed(2)}x; decode >= 1.2x: ${(rows[1]![1].perSec / icedDec).toFixed(2)}x; decode+format >= 2.5x iced formatter: ${(rows[2]![1].perSec / icedFmt).toFixed(2)}x`,
);
if (sink === -1) console.log(sink);
