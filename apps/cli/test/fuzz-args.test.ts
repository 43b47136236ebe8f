/**
 * Fuzz (issue 12): the CLI's argument and spec parsers on hostile input.
 * - `parseArgs` on random argv arrays (known flags, `--name=value`, short aliases, `--`,
 *   prototype names like `--__proto__` and `--constructor`, random unicode): only UsageError,
 *   and what it returns is consistent (every flag is declared, values only for value flags);
 * - `parseAddress`, `intOption`, `parseSpec` (trace `-e`), `parseReplay` (check `--replay`)
 *   on random and mutated valid text: only UsageError; results in their documented ranges
 *   (an address is what the text says; a spec parses again to itself; a replay is bounded);
 * - the built `xmc` on a sample of random command lines, as a subprocess: it ends (time
 *   bound), and every failure is one line on stderr with a non-zero status, never a stack trace
 *   or an internal error.
 * CI: 100,000 argv arrays and 100,000 texts per parser (seeded), 40 subprocesses;
 * `pnpm fuzz` scales them by XMC_FUZZ_CASES / 100,000.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type FuzzRng, fuzzCases, fuzzSeed, fuzzTimeoutMs, randomString, runFuzz } from "@xmc/tooling/fuzz";
import { expect, test } from "vitest";
import { type FlagSpec, intOption, parseAddress, parseArgs } from "../src/args.ts";
import { parseReplay } from "../src/check/replay-code.ts";
import { UsageError } from "../src/errors.ts";
import { parseSpec } from "../src/trace/spec.ts";

const SPEC: Record<string, FlagSpec> = {
  cpus: { value: true },
  seed: { value: true },
  fs: { value: true },
  "fs-rw": { value: false },
  event: { value: true, repeat: true, short: "e" },
  output: { value: true, short: "o" },
  json: { value: false },
  help: { value: false },
};
const HOSTILE = [
  "--",
  "-",
  "-e",
  "-o",
  "-x",
  "--__proto__",
  "--constructor",
  "--toString",
  "--hasOwnProperty",
  "--valueOf",
  "--=",
  "--cpus=",
  "--json=1",
  "--event=marker:a:b",
  "---cpus",
  "--CPUS",
  "\0",
  "",
  " ",
  "--\u202e",
  "-é",
];

/** Only UsageError may escape `fn`; returns the outcome name. */
function usage(fn: () => void): string {
  try {
    fn();
    return "ok";
  } catch (e) {
    if (e instanceof UsageError) {
      if (e.message.includes("\n"))
        throw new Error(`a UsageError of several lines: ${JSON.stringify(e.message)}`);
      return "UsageError";
    }
    throw e;
  }
}

function token(rng: FuzzRng): string {
  const k = rng.below(5);
  if (k === 0) return `--${rng.pick(Object.keys(SPEC))}`;
  if (k === 1) return rng.pick(HOSTILE);
  if (k === 2) return `--${rng.pick(Object.keys(SPEC))}=${randomString(rng, 8)}`;
  if (k === 3) return String(rng.below(100));
  return randomString(rng, 12);
}

test("regression inputs give a one-line UsageError, fast", () => {
  const lines = readFileSync(join(import.meta.dirname, "fuzz-args.regressions.txt"), "utf8")
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("#"));
  expect(lines.length).toBeGreaterThanOrEqual(5);
  const parsers: Record<string, (t: string) => unknown> = {
    spec: parseSpec,
    address: (t) => parseAddress(t, "--start"),
    replay: parseReplay,
  };
  for (const line of lines) {
    const [parser, json] = line.split("\t");
    const input = JSON.parse(json!) as string;
    const t0 = performance.now();
    expect(
      usage(() => parsers[parser!]!(input)),
      line,
    ).toBe("UsageError");
    expect(performance.now() - t0).toBeLessThan(500);
  }
});

test(
  "fuzz: parseArgs on random argv arrays throws only UsageError and returns only declared flags",
  () => {
    runFuzz({
      name: "cli parseArgs",
      seed: fuzzSeed(0xa4c5),
      cases: fuzzCases(100_000),
      caseMs: 250,
      generate: (rng) => Array.from({ length: rng.below(10) }, () => token(rng)),
      check: (argv) =>
        usage(() => {
          const { flags, lists, positional } = parseArgs(argv, SPEC, "fuzz");
          for (const [name, v] of flags) {
            if (!Object.hasOwn(SPEC, name)) throw new Error(`undeclared flag --${name} accepted`);
            if (SPEC[name]!.value !== (typeof v === "string"))
              throw new Error(`--${name} has value ${String(v)}`);
          }
          for (const name of lists.keys()) if (!SPEC[name]?.repeat) throw new Error(`--${name} listed`);
          // Every positional argument is one of the inputs, in order.
          let at = 0;
          for (const p of positional) {
            while (at < argv.length && argv[at] !== p) at++;
            if (at++ >= argv.length) throw new Error(`positional ${JSON.stringify(p)} not in argv order`);
          }
        }),
    });
  },
  fuzzTimeoutMs(),
);

const VALID_SPECS = [
  "marker:app:start",
  "usdt:libc:setjmp { count }",
  "func:main*",
  "kprobe:main+0x10 { hist(arg1) }",
  "kretprobe:malloc",
  "djprobe:work+12 {print}",
  "marker:*:*{hist(arg0)}",
];

/** Random text or a mutated valid one (characters replaced, inserted, cut). */
function text(rng: FuzzRng, valid: readonly string[]): string {
  if (rng.chance(0.4)) return randomString(rng, 40);
  let s = rng.pick(valid);
  const n = 1 + rng.below(3);
  for (let i = 0; i < n; i++) {
    const at = rng.below(s.length + 1);
    const k = rng.below(3);
    const piece = rng.chance(0.5)
      ? rng.pick(["{", "}", ":", "+", "0x", "(", ")", " ", "*", "9999999999999999999"])
      : randomString(rng, 3);
    if (k === 0) s = s.slice(0, at) + piece + s.slice(at);
    else if (k === 1) s = s.slice(0, at) + piece + s.slice(at + 1);
    else s = s.slice(0, at);
  }
  return s;
}

test(
  "fuzz: parseSpec accepts only well-formed specs, which parse again to themselves",
  () => {
    runFuzz({
      name: "cli parseSpec",
      seed: fuzzSeed(0x5bec),
      cases: fuzzCases(100_000),
      caseMs: 250,
      generate: (rng) => text(rng, VALID_SPECS),
      check: (t) =>
        usage(() => {
          const s = parseSpec(t);
          if (!Number.isSafeInteger(s.offset) || s.offset < 0) throw new Error(`offset ${s.offset}`);
          if (s.action.type === "hist" && !(s.action.arg >= 0 && s.action.arg < 100))
            throw new Error("hist arg");
          const again = parseSpec(s.text);
          if (JSON.stringify(again) !== JSON.stringify(s)) throw new Error("a spec does not parse to itself");
        }),
    });
  },
  fuzzTimeoutMs(),
);

test(
  "fuzz: parseAddress and intOption give UsageError or a value in range",
  () => {
    runFuzz({
      name: "cli parseAddress/intOption",
      seed: fuzzSeed(0xadd5),
      cases: fuzzCases(100_000),
      caseMs: 250,
      generate: (rng) =>
        text(rng, ["0x401000", "4198400", "0", "0xffffffffffff", "18446744073709551615", "64"]),
      check: (t) => {
        const a = usage(() => {
          const n = parseAddress(t, "--start");
          const want = /^0x[0-9a-f]+$/i.test(t) ? BigInt(t) : BigInt(t);
          if (!Number.isSafeInteger(n) || BigInt(n) !== want) throw new Error(`${t} parsed as ${n}`);
        });
        const b = usage(() => {
          const n = intOption(t, "--cpus", 1, 64, 1, "fuzz");
          if (!Number.isInteger(n) || n < 1 || n > 64 || String(n) !== t.replace(/^0+(?=\d)/, ""))
            throw new Error(`${t} gave ${n}`);
        });
        return `${a}/${b}`;
      },
    });
  },
  fuzzTimeoutMs(),
);

test(
  "fuzz: parseReplay gives UsageError or a bounded schedule",
  () => {
    runFuzz({
      name: "cli parseReplay",
      seed: fuzzSeed(0x4e91),
      cases: fuzzCases(100_000),
      caseMs: 1000,
      generate: (rng) =>
        rng.chance(0.02)
          ? "a9999999".repeat(2 + rng.below(4)) // each run within the bound, the total far above it
          : text(rng, ["seed:7", "-", "a3b2c", "abc", "z10", "seed:4294967295"]),
      check: (t) =>
        usage(() => {
          const r = parseReplay(t);
          if ("seed" in r) {
            if (!Number.isSafeInteger(r.seed) || r.seed < 0) throw new Error(`seed ${r.seed}`);
          } else if (r.choices.length > 10_000_000) throw new Error(`${r.choices.length} choices`);
        }),
    });
  },
  fuzzTimeoutMs(),
);

const XMC = join(import.meta.dirname, "../dist/xmc.js");

test.runIf(existsSync(XMC))(
  "fuzz sample: the built xmc fails in one line, never with a stack trace",
  () => {
    const commands = ["disasm", "run", "trace", "markers", "report", "help", "nosuch", "--debugx", ""];
    const hello = join(import.meta.dirname, "../examples/hello");
    expect(readFileSync(hello).length).toBeGreaterThan(0);
    runFuzz({
      name: "cli subprocess",
      seed: fuzzSeed(0x5b9),
      cases: fuzzCases(40),
      caseMs: 30_000,
      generate: (rng) => {
        const argv = [rng.pick(commands), ...Array.from({ length: 1 + rng.below(5) }, () => token(rng))];
        // Now and then a real file among the arguments, so that parsing gets past the file check.
        if (rng.chance(0.3)) argv.splice(1 + rng.below(argv.length), 0, hello);
        return argv.filter((a) => !a.includes("\0"));
      },
      check: (argv) => {
        const r = spawnSync(process.execPath, [XMC, ...argv], { encoding: "utf8", timeout: 25_000 });
        if (r.error) throw r.error;
        if (r.signal) throw new Error(`xmc ${JSON.stringify(argv)} killed by ${r.signal}`);
        if (/\n\s+at |internal error/.test(r.stderr))
          throw new Error(`xmc ${JSON.stringify(argv)}: ${r.stderr.slice(0, 400)}`);
        if (r.status === 0) return "exit 0";
        const lines = r.stderr.split("\n").filter((l) => l !== "");
        if (lines.length !== 1 || !lines[0]!.startsWith("xmc"))
          throw new Error(
            `xmc ${JSON.stringify(argv)} (status ${r.status}): stderr ${JSON.stringify(r.stderr.slice(0, 400))}`,
          );
        return `exit ${r.status}`;
      },
    });
  },
  fuzzTimeoutMs(),
);
