/**
 * Fuzz (issue 12): random bytes and mutated real instruction bytes (every vector of
 * `vectors/decode64.txt` and `decode32.txt`) in 16-, 32- and 64-bit mode through `decode`,
 * `instructionLength`, `formatAtt` and `formatIntel`, at random offsets and random (also
 * non-canonical) addresses. Properties, per case:
 * - nothing throws; `decode` returns 0 with `error` Truncated/Invalid/TooLong, or a length of
 *   1-15 with `error` 0 that stays inside the buffer;
 * - `instructionLength` returns exactly `decode`'s length, or minus its error;
 * - every prefix of a decoded instruction shorter than it is `Truncated` (the decoder never
 *   looks past the instruction's own bytes), except that a prefix of a folded FWAIT + x87
 *   instruction may decode as the FWAIT alone (objdump folds FWAIT into a following x87
 *   instruction when the bytes are there);
 * - both formatters return one non-empty line.
 * CI: 500,000 cases (seed fixed, about 4 s); `pnpm fuzz` runs XMC_FUZZ_CASES × 5. Regression inputs:
 * `fuzz-decode.regressions.txt` (one `mode hex` per line).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type FuzzRng,
  fromHex,
  fuzzCases,
  fuzzSeed,
  fuzzTimeoutMs,
  mutateMany,
  runFuzz,
} from "@xmc/tooling/fuzz";
import { expect, test } from "vitest";
import { DecodeError, decode, formatAtt, formatIntel, Instruction, instructionLength } from "../src/index.ts";

type Mode = 16 | 32 | 64;
interface Case {
  bytes: Uint8Array;
  offset: number;
  ip: number;
  mode: Mode;
}

const MODES: readonly Mode[] = [16, 32, 64];

/** The instruction bytes of a vector file (first column). */
function vectorBytes(file: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const line of readFileSync(join(import.meta.dirname, "vectors", file), "utf8").split("\n")) {
    if (line.startsWith("#") || !line.includes("|")) continue;
    out.push(fromHex(line.slice(0, line.indexOf("|"))));
  }
  return out;
}

const corpus = [...vectorBytes("decode64.txt"), ...vectorBytes("decode32.txt")];
const insn = new Instruction();
const prefix = new Instruction();
const fwaitId = (() => {
  const i = new Instruction();
  decode(Uint8Array.of(0x9b), 0, 0, 64, i);
  return i.mnemonicId;
})();

/** The properties above for one case; returns the outcome name. */
function check(c: Case): string {
  const { bytes, offset, ip, mode } = c;
  const len = decode(bytes, offset, ip, mode, insn);
  const fast = instructionLength(bytes, offset, mode);
  if (len === 0) {
    if (
      insn.error !== DecodeError.Truncated &&
      insn.error !== DecodeError.Invalid &&
      insn.error !== DecodeError.TooLong
    )
      throw new Error(`decode returned 0 with error ${insn.error}`);
    if (fast !== -insn.error) throw new Error(`instructionLength ${fast}, decode error ${insn.error}`);
    return DecodeError[insn.error]!;
  }
  if (insn.error !== DecodeError.None) throw new Error(`decode returned ${len} with error ${insn.error}`);
  if (len < 1 || len > 15 || offset + len > bytes.length || insn.length !== len)
    throw new Error(`decode length ${len} (insn.length ${insn.length}) at ${offset} of ${bytes.length}`);
  if (fast !== len) throw new Error(`instructionLength ${fast}, decode ${len}`);
  for (const text of [formatAtt(insn), formatIntel(insn)]) {
    if (typeof text !== "string" || text.length === 0 || text.includes("\n"))
      throw new Error(`formatter gave ${JSON.stringify(text)}`);
  }
  // Every strict prefix of the instruction is truncated (checked on a sample: 1 in 4 cases).
  if ((ip & 3) === 0) {
    for (let k = 0; k < len; k++) {
      const cut = bytes.subarray(0, offset + k);
      const p = decode(cut, offset, ip, mode, prefix);
      const fwait = p > 0 && p <= k && prefix.mnemonicId === fwaitId;
      if (!fwait && (p !== 0 || prefix.error !== DecodeError.Truncated))
        throw new Error(`prefix of ${k} of a ${len}-byte instruction: length ${p}, error ${prefix.error}`);
      if (instructionLength(cut, offset, mode) !== (fwait ? p : -DecodeError.Truncated))
        throw new Error(`instructionLength of a ${k}-byte prefix is not Truncated`);
    }
  }
  return "decoded";
}

function generate(rng: FuzzRng): Case {
  const mode = rng.pick(MODES);
  let bytes: Uint8Array;
  const k = rng.below(8);
  if (k < 2) {
    bytes = rng.bytes(rng.below(20));
  } else if (k < 3) {
    // Prefix soup then random: many legacy/REX/VEX/EVEX lead bytes.
    const lead = [0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x2e, 0x3e, 0x26, 0x64, 0x65, 0x36, 0x40, 0x48, 0x4f];
    const n = rng.below(18);
    bytes = new Uint8Array(n + 6);
    for (let i = 0; i < n; i++) bytes[i] = rng.pick(lead);
    bytes.set(rng.bytes(6), n);
  } else {
    bytes = mutateMany(rng, rng.pick(corpus), corpus, 3, 32);
  }
  // Sometimes decode at an offset inside a larger buffer.
  let offset = 0;
  if (rng.chance(0.2) && bytes.length > 0) {
    offset = rng.below(bytes.length + 1);
  }
  const ips = [0, 0x401000, 0x7ffffffffff0, 0xfffffffffff0, 2 ** 53 - 8, 0xfffffff0, 0xfff0];
  const ip = rng.chance(0.5) ? rng.pick(ips) : rng.next() * 4096;
  return { bytes, offset, ip, mode };
}

test("regression inputs decode without throwing", () => {
  const lines = readFileSync(join(import.meta.dirname, "fuzz-decode.regressions.txt"), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("#"));
  for (const line of lines) {
    const [mode, hex] = line.split(/\s+/);
    const c: Case = { bytes: fromHex(hex!), offset: 0, ip: 0x401000, mode: Number(mode) as Mode };
    expect(() => check(c), line).not.toThrow();
  }
});

test(
  "fuzz: decode, length and both formatters on random and mutated instruction bytes",
  () => {
    const cases = fuzzCases(500_000);
    const tally = runFuzz({
      name: "x86-decode",
      seed: fuzzSeed(0xdec0de12),
      cases,
      caseMs: 250,
      generate,
      check,
    });
    expect(tally.cases).toBe(cases);
    // Both outcomes and every error kind occur (the generator reaches them all).
    for (const o of ["decoded", "Truncated", "Invalid", "TooLong"])
      expect(tally.outcomes.get(o) ?? 0, o).toBeGreaterThan(100);
  },
  fuzzTimeoutMs(),
);
