/**
 * Fuzz (issue 12): `parseCtf` on damaged CTF traces. Real traces written by `writeCtf` (every
 * field type, losses, two CPUs) are mutated — the stream files' bytes (flips, boundary values
 * in headers and lengths, insertions, truncation, splices) or the metadata text (bytes, and
 * numbers replaced by boundary values) — and parsed. Property: a trace, or
 * `TraceBufferError` `BAD_TRACE`; nothing else, no case above its CPU-time bound.
 * CI: 100,000 cases; `pnpm fuzz` scales them by XMC_FUZZ_CASES / 100,000. Inputs that broke the
 * property stay in `fuzz-ctf-read.regressions/`.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type FuzzRng,
  fuzzCases,
  fuzzSeed,
  fuzzTimeoutMs,
  INTERESTING,
  mutateMany,
  runFuzz,
} from "@xmc/tooling/fuzz";
import { expect, test } from "vitest";
import { parseCtf, TraceBufferError, TraceBuffers, writeCtf } from "../src/index.ts";
import { SCHEMA } from "./helpers/scenario.ts";

type Files = Record<string, Uint8Array>;

/** Two small real traces as their files. */
function traces(): Files[] {
  const out: Files[] = [];
  const root = mkdtempSync(join(tmpdir(), "xmc-ctf-read-fuzz-"));
  try {
    for (const [i, cpus] of [1, 2].entries()) {
      const b = TraceBuffers.create({ schema: SCHEMA, cpus, subBufferSize: 512, subBufferCount: 2 });
      const w = b.writer(0);
      let ts = 10;
      w.emit("all", (ts += 3), [1, 2, 3, 4n, -1, -2, -3, -4n, 1.5, "text \u00e9", new Uint8Array([1, 2, 3])]);
      for (let k = 0; k < 30; k++) w.emit("sched:switch", (ts += 3), [`p${k}`, `n${k}`, k]);
      w.emit("irq_entry", (ts += 3), [7, 0xffffffffffffffffn]);
      if (cpus === 2) b.writer(1).emit("marker", (ts += 3), []);
      w.close();
      const dir = join(root, `t${i}`);
      writeCtf(b.reader().drain(undefined, true), dir);
      const files: Files = {};
      for (const name of readdirSync(dir)) files[name] = new Uint8Array(readFileSync(join(dir, name)));
      out.push(files);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return out;
}

/** Replace a few numbers of the metadata text with boundary values. */
function mutateNumbers(rng: FuzzRng, text: string): string {
  const numbers = [...text.matchAll(/\d+/g)];
  if (numbers.length === 0) return text;
  let s = text;
  for (let i = 0; i < 1 + rng.below(3); i++) {
    const m = rng.pick(numbers);
    const v = rng.pick([...INTERESTING.map(String), "0", "99999999999999999999", "-1", "1e308"]);
    s = s.slice(0, m.index) + v + s.slice(m.index! + m[0].length);
  }
  return s;
}

function check(files: Files): string {
  try {
    const t = parseCtf(files);
    return t.events.length > 0 ? "parsed" : "parsed, no events";
  } catch (e) {
    if (e instanceof TraceBufferError && e.code === "BAD_TRACE") return "BAD_TRACE";
    throw e;
  }
}

test("regression inputs parse or throw BAD_TRACE", () => {
  const dir = join(import.meta.dirname, "fuzz-ctf-read.regressions");
  const names = readdirSync(dir).filter((n) => !n.endsWith(".txt"));
  expect(names.length).toBeGreaterThanOrEqual(1);
  for (const name of names) {
    const files: Files = {};
    for (const f of readdirSync(join(dir, name))) files[f] = new Uint8Array(readFileSync(join(dir, name, f)));
    expect(check(files), name).toBe("BAD_TRACE");
  }
});

test(
  "fuzz: damaged CTF traces parse or throw BAD_TRACE",
  () => {
    const originals = traces();
    for (const t of originals) expect(check(t)).toBe("parsed");
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    const tally = runFuzz({
      name: "trace-buffer parseCtf",
      seed: fuzzSeed(0xc7f12ead),
      cases: fuzzCases(100_000),
      caseMs: 500,
      generate: (rng) => {
        const files: Files = { ...rng.pick(originals) };
        const names = Object.keys(files);
        const k = rng.below(10);
        if (k < 6) {
          const name = rng.pick(names.filter((n) => n !== "metadata"));
          const corpus = names.map((n) => files[n]!);
          files[name] = mutateMany(rng, files[name]!, corpus, 4);
        } else if (k < 8) {
          files.metadata = enc.encode(mutateNumbers(rng, dec.decode(files.metadata)));
        } else if (k < 9) {
          files.metadata = mutateMany(rng, files.metadata!, [], 3);
        } else {
          // A file missing or an extra one.
          const name = rng.pick(names);
          if (rng.chance(0.5)) delete files[name];
          else files[`stream_${rng.below(9)}`] = rng.bytes(rng.below(200));
        }
        return files;
      },
      check,
    });
    expect(tally.outcomes.get("BAD_TRACE") ?? 0).toBeGreaterThan(0);
    expect(tally.outcomes.get("parsed") ?? 0).toBeGreaterThan(0);
  },
  fuzzTimeoutMs(),
);
