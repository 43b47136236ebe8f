// Benchmark: time to parse libc.so.6 (headers, sections, segments) plus all its symbols
// (.symtab when present, .dynsym with GNU versions), from bytes already in memory; and the
// cost of one symbolizer lookup. Host time, in microseconds / nanoseconds.
// Run: npx tsx --conditions=@xmc/source bench/index.ts [file]
import { readFileSync } from "node:fs";
import { parseElf } from "../src/index.ts";

const file = process.argv[2] ?? "/usr/lib/x86_64-linux-gnu/libc.so.6";
const bytes = new Uint8Array(readFileSync(file));

function parseAll(): number {
  const elf = parseElf(bytes);
  return elf.symbols().length + elf.dynamicSymbols().length;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

let symbols = 0;
for (let i = 0; i < 30; i++) symbols = parseAll(); // warm-up: let the JIT settle
const samples: number[] = [];
for (let i = 0; i < 300; i++) {
  const t0 = process.hrtime.bigint();
  parseAll();
  samples.push(Number(process.hrtime.bigint() - t0) / 1000);
}

const elf = parseElf(bytes);
const z = elf.symbolizer();
const text = elf.sectionByName(".text");
const start = Number(text?.addr ?? 0n);
const span = Math.max(1, text?.size ?? 1);
const lookups = 2_000_000;
let hits = 0;
const t1 = process.hrtime.bigint();
for (let i = 0; i < lookups; i++) if (z.indexOf(start + ((i * 7919) % span)) >= 0) hits++;
const perLookupNs = Number(process.hrtime.bigint() - t1) / lookups;

console.log(`file: ${file} (${bytes.length} bytes, ${elf.sections.length} sections, ${symbols} symbols)`);
console.log(
  `parse headers + all symbols: median ${median(samples).toFixed(0)} us, min ${Math.min(...samples).toFixed(0)} us (${samples.length} runs)`,
);
console.log(
  `symbolizer: ${z.size} functions, indexOf ${perLookupNs.toFixed(0)} ns per lookup (${hits} hits)`,
);
console.log(`node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
