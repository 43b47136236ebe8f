/**
 * Fuzz (issue 12): the program loader and the simulator never let hostile input become a host
 * exception or a hang.
 * - loader: mutated real static programs (three musl fixtures and a minimal ELF) through
 *   `loadStatic`: an image or a `LoadError`, nothing else; a sample runs as a whole
 *   `LinuxProcess` for a few hundred instructions.
 * - execution: random and mutated code pages with random registers on a 1-CPU machine through
 *   `runCpu` with a 300-instruction budget: a `Stop`, faults stored as CpuException/GuestFault,
 *   never more instructions than the budget; a sample runs inside a `LinuxProcess`, where
 *   faults become signals and the run ends with an `ExitStatus`.
 * - syscalls: programs of random syscalls with random arguments (pointers into unmapped,
 *   read-only and kernel memory, huge lengths and counts, bad descriptors) run to an
 *   `ExitStatus` under an instruction limit; every syscall returns.
 * One case is one load, one code page or one executed syscall. CI: 100,000 of each (the
 * machine is reused where the property allows, so a case is cheap); `pnpm fuzz` scales them by
 * XMC_FUZZ_CASES / 100,000. A case slower than its bound fails with its input.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type FuzzRng,
  fromHex,
  fuzzCases,
  fuzzSeed,
  fuzzTimeoutMs,
  INTERESTING,
  mutateMany,
  runFuzz,
} from "@xmc/tooling/fuzz";
import { describe, expect, test } from "vitest";
import {
  CpuException,
  type ExitStatus,
  GuestFault,
  LinuxProcess,
  LoadError,
  loadStatic,
  Machine,
  Memory,
  Perm,
  runCpu,
  Stop,
  SYSCALLS,
} from "../src/index.ts";
import { CODE_BASE, DATA_BASE, exitCode, syscallCode, tinyElf } from "./fuzz-helpers.ts";

const BIN = join(import.meta.dirname, "fixtures/bin");
const STACK_TOP = 0x7ffffffff000;
const STACK_SIZE = 8 << 20;

/** Run a whole process quietly with small limits; returns its exit status. */
function runProcess(bytes: Uint8Array, maxInstructions: number, seed = 1): { exit: ExitStatus; m: Machine } {
  const m = new Machine({ cpus: 1 + (seed % 2), memoryLimit: 64 << 20 });
  const p = new LinuxProcess(m, bytes, {
    argv: ["fuzz"],
    seed,
    stdin: new Uint8Array(0),
    stdout: () => {},
    stderr: () => {},
    diagnostics: () => {},
    maxInstructions,
  });
  return { exit: p.run(), m };
}

function checkExit(exit: ExitStatus): string {
  if (exit.instructionLimit) return "instruction limit";
  if (exit.deadlock) return "deadlock";
  if (exit.signal > 0) return "killed by a signal";
  if (!Number.isInteger(exit.code) || exit.code < 0 || exit.code > 255)
    throw new Error(`exit code ${exit.code}`);
  return "exited";
}

test("regression inputs: each loads or throws LoadError, within a second", () => {
  const lines = readFileSync(join(import.meta.dirname, "fuzz-sim.regressions.txt"), "utf8")
    .split("\n")
    .filter((l) => l.startsWith("loader "));
  expect(lines.length).toBeGreaterThanOrEqual(3);
  for (const line of lines) {
    const t0 = performance.now();
    let outcome = "loaded";
    try {
      loadStatic(new Memory(64 << 20), fromHex(line.slice(7)), ["r"], [], new Uint8Array(16), "r");
    } catch (e) {
      if (!(e instanceof LoadError)) throw e;
      outcome = "LoadError";
    }
    expect(outcome, line.slice(0, 80)).toBe("LoadError");
    expect(performance.now() - t0).toBeLessThan(1000);
  }
});

test("memory syscalls with huge lengths return at once (ENOMEM, or nothing to do)", () => {
  const U64 = 2n ** 64n;
  const calls: [string, bigint, bigint[], bigint][] = [
    ["munmap 2^46", 11n, [0x10000000n, 1n << 46n], 0n],
    ["munmap the stack and far beyond", 11n, [0x7f0000000000n, 1n << 44n], 0n],
    ["mmap 2^45", 9n, [0n, 1n << 45n, 3n, 0x22n, U64 - 1n, 0n], U64 - 12n],
    ["mmap MAP_FIXED 2^45", 9n, [0x100000000n, 1n << 45n, 3n, 0x32n, U64 - 1n, 0n], U64 - 12n],
    ["mmap hint 2^40", 9n, [0x200000000n, 1n << 40n, 3n, 0x22n, U64 - 1n, 0n], U64 - 12n],
    ["mremap to 2^45", 25n, [0x600000n, 0x1000n, 1n << 45n, 1n], U64 - 12n],
  ];
  const code: number[] = [];
  calls.forEach(([, nr, args], i) => {
    code.push(...syscallCode(nr, args, DATA_BASE + 8 * i));
  });
  code.push(...syscallCode(12n, [0n], DATA_BASE + 8 * calls.length)); // brk(0): the break
  code.push(...syscallCode(12n, [1n << 62n], DATA_BASE + 8 * (calls.length + 1))); // brk(2^62)
  code.push(...exitCode(0));
  const m = new Machine({ cpus: 1, memoryLimit: 64 << 20 });
  const p = new LinuxProcess(m, tinyElf(Uint8Array.from(code)), {
    argv: ["huge"],
    stdout: () => {},
    stderr: () => {},
    maxInstructions: 10_000,
  });
  const t0 = performance.now();
  // munmap of the stack kills the program at its next push: only the results matter here.
  p.run();
  expect(performance.now() - t0).toBeLessThan(2000);
  const read = (i: number) => {
    const lo = m.mem.read64(DATA_BASE + 8 * i) >>> 0;
    return BigInt(lo) + (BigInt(m.mem.hi >>> 0) << 32n);
  };
  expect(calls.map(([what], i) => `${what} = ${read(i)}`)).toEqual(
    calls.map(([what, , , want]) => `${what} = ${want}`),
  );
  expect(read(calls.length + 1)).toBe(read(calls.length)); // brk(2^62) refused: the break is unchanged
});

describe("loader", () => {
  /** Memory that remembers what a load mapped, so that one Memory serves every case. */
  class RecordingMemory extends Memory {
    readonly ranges: [number, number][] = [];
    override map(addr: number, len: number, perm: number): void {
      super.map(addr, len, perm);
      this.ranges.push([addr, len]);
    }
    /** Unmap what the last load mapped, except the stack (mapped again, cheaply, by the next load). */
    reset(): void {
      for (const [a, l] of this.ranges) if (a !== STACK_TOP - STACK_SIZE) this.unmap(a, l);
      this.ranges.length = 0;
    }
  }

  const originals = [
    ...["hello", "syscalls", "threads"].map((n) => new Uint8Array(readFileSync(join(BIN, n)))),
    tinyElf(Uint8Array.from(exitCode(7))),
  ];

  test(
    "fuzz: mutated static programs load or throw LoadError",
    () => {
      const mem = new RecordingMemory(32 << 20);
      const random16 = new Uint8Array(16);
      const cases = fuzzCases(100_000);
      const tally = runFuzz({
        name: "cpu-sim loader",
        seed: fuzzSeed(0x10ade12),
        cases,
        caseMs: 1000,
        generate: (rng) =>
          mutateMany(rng, rng.chance(0.6) ? originals[3]! : rng.pick(originals), originals, 4),
        check: (bytes) => {
          try {
            const img = loadStatic(mem, bytes, ["fuzz", "a"], ["X=1"], random16, "fuzz");
            if (!mem.isMapped(img.sp, 8)) throw new Error(`initial RSP ${img.sp} is not mapped`);
            return "loaded";
          } catch (e) {
            if (e instanceof LoadError) return "LoadError";
            throw e;
          } finally {
            mem.reset();
          }
        },
      });
      expect(tally.outcomes.get("loaded") ?? 0).toBeGreaterThan(cases / 20);
      expect(tally.outcomes.get("LoadError") ?? 0).toBeGreaterThan(cases / 20);
    },
    fuzzTimeoutMs(),
  );

  test(
    "fuzz: a sample of mutated programs runs as a LinuxProcess to an ExitStatus",
    () => {
      const cases = fuzzCases(300);
      const tally = runFuzz({
        name: "cpu-sim process",
        seed: fuzzSeed(0x9e0c12),
        cases,
        caseMs: 2000,
        generate: (rng) => mutateMany(rng, rng.pick(originals), originals, 3),
        check: (bytes) => {
          try {
            return checkExit(runProcess(bytes, 400).exit);
          } catch (e) {
            if (e instanceof LoadError) return "LoadError";
            throw e;
          }
        },
      });
      expect(tally.outcomes.get("LoadError") ?? 0).toBeGreaterThan(0);
    },
    fuzzTimeoutMs(),
  );
});

describe("execution", () => {
  const CODE = 0x400000;
  const DATA = 0x600000;
  const BUDGET = 300;
  /** Register values: pointers into the data pages, the code page, unmapped and non-canonical memory, boundaries. */
  const VALUES = [
    DATA,
    DATA + 0x800,
    DATA + 0x1ff8,
    CODE,
    CODE + 0x10,
    0,
    0x1000,
    0x7ffffffff000,
    2 ** 47,
    2 ** 53 - 8,
    ...INTERESTING,
  ];

  /** A few instructions that reach interesting places: string ops, division, stack, x87, SSE, loops. */
  const SNIPPETS = [
    [0xf3, 0xa4], // rep movsb
    [0xf3, 0x48, 0xab], // rep stosq
    [0xf3, 0xa6], // repe cmpsb
    [0x48, 0xf7, 0xf1], // div rcx
    [0x48, 0xf7, 0xf9], // idiv rcx
    [0xe2, 0xfe], // loop self
    [0xd9, 0xe8, 0xd9, 0xfa], // fld1; fsqrt
    [0x0f, 0x28, 0x07], // movaps xmm0,[rdi]
    [0x0f, 0x05], // syscall
    [0x0f, 0x0b], // ud2
    [0xcc], // int3
    [0xcd, 0x80], // int 0x80
    [0xc3], // ret
    [0xff, 0xe0], // jmp rax
    [0x48, 0x8b, 0x04, 0x24], // mov rax,[rsp]
    [0x0f, 0xa2], // cpuid
    [0x0f, 0x31], // rdtsc
    [0xf0, 0x48, 0x0f, 0xb1, 0x0f], // lock cmpxchg [rdi],rcx
    [0x0f, 0x01, 0xc1], // vmcall
    [0xf4], // hlt
  ];

  function codePage(rng: FuzzRng): Uint8Array {
    const page = new Uint8Array(256);
    let p = 0;
    while (p < page.length) {
      if (rng.chance(0.3)) {
        for (const b of rng.pick(SNIPPETS)) if (p < page.length) page[p++] = b;
      } else page[p++] = rng.next() & 0xff;
    }
    return page;
  }

  test(
    "fuzz: random code pages run within the budget, faults are stored, nothing escapes",
    () => {
      const m = new Machine({ cpus: 1, memoryLimit: 1 << 20 });
      const c = m.cpus[0]!;
      // Syscalls without an OS layer: give -ENOSYS and continue.
      m.attach((cpu) => cpu.setReg64(0, 2 ** 64 - 38));
      m.mem.map(CODE, 0x1000, Perm.RWX);
      m.mem.map(DATA, 0x2000, Perm.RW);
      const cases = fuzzCases(100_000);
      const tally = runFuzz({
        name: "cpu-sim execution",
        seed: fuzzSeed(0xc0de12),
        cases,
        caseMs: 250,
        generate: (rng) => ({
          code: codePage(rng),
          regs: Array.from({ length: 16 }, () => rng.pick(VALUES)),
        }),
        check: ({ code, regs }) => {
          m.mem.writeBytes(CODE, code);
          regs.forEach((v, r) => {
            c.setReg64(r, v);
          });
          c.setReg64(4, DATA + 0x1000); // a usable stack in the middle of the data pages
          c.rip = CODE;
          c.fault = undefined;
          const before = c.instructions;
          const stop = runCpu(c, m.cache, BUDGET);
          const ran = c.instructions - before;
          if (ran > BUDGET) throw new Error(`${ran} instructions ran with a budget of ${BUDGET}`);
          if (stop === Stop.Fault) {
            if (!(c.fault instanceof CpuException || c.fault instanceof GuestFault))
              throw new Error(`fault is not a CpuException/GuestFault: ${String(c.fault)}`);
            return `fault ${(c.fault as Error).name}`;
          }
          if (stop !== Stop.Budget && stop !== Stop.Requested) throw new Error(`stop ${stop}`);
          return stop === Stop.Budget ? "budget" : "requested";
        },
      });
      expect(tally.outcomes.get("fault CpuException") ?? 0).toBeGreaterThan(0);
      expect(tally.outcomes.get("fault GuestFault") ?? 0).toBeGreaterThan(0);
      expect(tally.outcomes.get("budget") ?? 0).toBeGreaterThan(0);
    },
    fuzzTimeoutMs(),
  );

  test(
    "fuzz: a sample of random code pages runs in a LinuxProcess to an ExitStatus",
    () => {
      const cases = fuzzCases(300);
      const tally = runFuzz({
        name: "cpu-sim code in a process",
        seed: fuzzSeed(0xc0de13),
        cases,
        caseMs: 2000,
        generate: (rng) => codePage(rng),
        check: (code) => checkExit(runProcess(tinyElf(code), 300).exit),
      });
      expect(tally.outcomes.get("killed by a signal") ?? 0).toBeGreaterThan(0);
    },
    fuzzTimeoutMs(),
  );
});

describe("syscalls", () => {
  const implemented = SYSCALLS.flatMap((fn, nr) => (fn ? [nr] : []));
  /** Calls that end or derail the program: drawn rarely so that programs stay long. */
  const LETHAL = new Set([15, 56, 57, 58, 60, 62, 200, 231, 234, 435]);
  const common = implemented.filter((n) => !LETHAL.has(n));
  const PER_PROGRAM = 250;
  const U64 = 2n ** 64n;

  function arg(rng: FuzzRng): bigint {
    switch (rng.below(6)) {
      case 0: // a valid pointer into the data page
        return BigInt(DATA_BASE + 8 * rng.below(0x100));
      case 1: // a read-only pointer (the code page)
        return BigInt(CODE_BASE + rng.below(0x100));
      case 2: // unmapped, non-canonical and kernel addresses
        return rng.pick([0n, 8n, 0x1000n, 0xdead0000n, 0x7ffffffff000n, 1n << 47n, U64 - 16n, U64 - 4096n]);
      case 3: // descriptors
        return BigInt.asUintN(64, BigInt(rng.pick([0, 1, 2, 3, 4, 5, -1, -100, 1023, 1024, 65536])));
      case 4: // boundaries
        return BigInt(rng.pick(INTERESTING)) + (rng.chance(0.3) ? 1n << 32n : 0n);
      default: // anything
        return (BigInt(rng.next()) << 32n) | BigInt(rng.next());
    }
  }

  test(
    "fuzz: random syscalls with random arguments return to the guest; programs end with an ExitStatus",
    () => {
      const target = fuzzCases(100_000);
      let executed = 0;
      let programs = 0;
      const tally = runFuzz({
        name: "cpu-sim syscalls (programs)",
        seed: fuzzSeed(0x5c12),
        // Programs until `target` syscalls have run (checked below); the count is a safe upper bound.
        cases: Math.ceil(target / 20),
        caseMs: 3000,
        generate: (rng, i) => {
          if (executed >= target) return { elf: new Uint8Array(0), seed: 0 };
          const code: number[] = [];
          for (let k = 0; k < PER_PROGRAM; k++) {
            const nr = rng.chance(0.005)
              ? rng.pick([...LETHAL])
              : rng.chance(0.85)
                ? rng.pick(common)
                : rng.pick([rng.below(600), 2 ** 31, 0xffffffff, -1]);
            const args = Array.from({ length: 6 }, () => arg(rng));
            code.push(...syscallCode(BigInt.asUintN(64, BigInt(nr)), args, DATA_BASE + 0x1000 + 8 * k));
          }
          code.push(...exitCode(0));
          return { elf: tinyElf(Uint8Array.from(code), 0x3000), seed: i + 1 };
        },
        check: ({ elf, seed }) => {
          if (executed >= target) return "not run (target reached)";
          const m = new Machine({ cpus: 1 + (seed % 2), memoryLimit: 16 << 20 });
          m.events.keep = [];
          const p = new LinuxProcess(m, elf, {
            argv: ["fuzz"],
            seed,
            stdin: new Uint8Array(4),
            stdout: () => {},
            stderr: () => {},
            diagnostics: () => {},
            maxInstructions: PER_PROGRAM * 12 + 100,
          });
          programs++;
          const outcome = checkExit(p.run());
          executed += m.events.keep.filter((e) => e[2] === 1).length;
          return outcome;
        },
      });
      process.stdout.write(`fuzz cpu-sim syscalls: ${executed} syscalls executed in ${programs} programs\n`);
      expect(executed).toBeGreaterThanOrEqual(target);
      // Programs end every way: exit, death by a signal (a random kill, a bad rt_sigreturn).
      expect(tally.outcomes.get("exited") ?? 0).toBeGreaterThan(0);
      expect(tally.outcomes.get("killed by a signal") ?? 0).toBeGreaterThan(0);
    },
    fuzzTimeoutMs(),
  );

  test("a pointer into unmapped, read-only, non-canonical or kernel memory gets -EFAULT", () => {
    const EFAULT = U64 - 14n;
    // Strings the calls need, placed in the code page after the code (readable).
    const BAD = [0n, 0x1000n, 0x7ffffffff000n, 1n << 47n, U64 - 4096n];
    const W = BigInt(DATA_BASE); // a writable buffer
    const calls: [string, bigint, (bad: bigint, path: bigint) => bigint[]][] = [
      ["write", 1n, (b) => [1n, b, 16n]],
      ["read", 0n, (b) => [0n, b, 4n]],
      ["open", 2n, (b) => [b, 0n, 0n]],
      ["stat buf", 4n, (b, path) => [path, b]],
      ["stat path", 4n, (b) => [b, W]],
      ["fstat", 5n, (b) => [1n, b]],
      ["uname", 63n, (b) => [b]],
      ["clock_gettime", 228n, (b) => [0n, b]],
      ["gettimeofday", 96n, (b) => [b, 0n]],
      ["getrandom", 318n, (b) => [b, 16n, 0n]],
      ["pipe", 22n, (b) => [b]],
      ["nanosleep", 35n, (b) => [b, 0n]],
      ["rt_sigaction", 13n, (b) => [2n, b, 0n, 8n]],
      ["rt_sigprocmask", 14n, (b) => [0n, b, 0n, 8n]],
      ["getcwd", 79n, (b) => [b, 100n]],
      ["readlink", 89n, (b, path) => [path + 10n, b, 100n]], // "/proc/self/exe"
      ["sysinfo", 99n, (b) => [b]],
      ["writev", 20n, (b) => [1n, b, 1n]],
      ["prlimit64", 302n, (b) => [0n, 7n, 0n, b]],
    ];
    // NULL means "not given" for these arguments (Linux returns 0): only non-NULL bad pointers.
    const nullOk = new Set(["gettimeofday", "rt_sigaction", "rt_sigprocmask", "prlimit64"]);
    const bads = (name: string) => BAD.filter((b) => b !== 0n || !nullOk.has(name));
    const code: number[] = [];
    const plan: string[] = [];
    const pathAt = BigInt(CODE_BASE + 0x78 + 10); // patched below, after the code length is known
    let slot = 0;
    for (const [name, nr, args] of calls)
      for (const bad of bads(name)) {
        code.push(...syscallCode(nr, args(bad, pathAt), DATA_BASE + 0x1000 + 8 * slot++));
        plan.push(`${name}(${bad.toString(16)})`);
      }
    // The same writes into the read-only code page.
    const ro = BigInt(CODE_BASE);
    for (const [name, nr, args] of calls.filter(([n]) =>
      ["read", "getrandom", "uname", "fstat"].includes(n),
    )) {
      code.push(...syscallCode(nr, args(ro, pathAt), DATA_BASE + 0x1000 + 8 * slot++));
      plan.push(`${name}(read-only page)`);
    }
    code.push(...exitCode(0));
    const pathOffset = code.length;
    code.push(...new TextEncoder().encode("/dev/null\0/proc/self/exe"), 0);
    // Re-emit with the real path address (instruction lengths do not depend on the values).
    const path = BigInt(CODE_BASE + 64 + 2 * 56 + pathOffset);
    const final: number[] = [];
    slot = 0;
    for (const [name, nr, args] of calls)
      for (const bad of bads(name))
        final.push(...syscallCode(nr, args(bad, path), DATA_BASE + 0x1000 + 8 * slot++));
    for (const [, nr, args] of calls.filter(([n]) => ["read", "getrandom", "uname", "fstat"].includes(n)))
      final.push(...syscallCode(nr, args(ro, path), DATA_BASE + 0x1000 + 8 * slot++));
    final.push(...exitCode(0), ...new TextEncoder().encode("/dev/null\0/proc/self/exe"), 0);
    expect(final.length).toBe(code.length);
    const m = new Machine({ cpus: 1, memoryLimit: 64 << 20 });
    const p = new LinuxProcess(m, tinyElf(Uint8Array.from(final), 0x3000), {
      argv: ["efault"],
      stdin: new Uint8Array(64),
      stdout: () => {},
      stderr: () => {},
      maxInstructions: 100_000,
    });
    expect(p.run()).toEqual({ code: 0, signal: 0 });
    const got = plan.map((what, i) => {
      const v = BigInt.asUintN(
        64,
        BigInt(m.mem.read64(DATA_BASE + 0x1000 + 8 * i) >>> 0) + (BigInt(m.mem.hi >>> 0) << 32n),
      );
      return `${what} = ${v === EFAULT ? "-EFAULT" : BigInt.asIntN(64, v)}`;
    });
    expect(got).toEqual(plan.map((what) => `${what} = -EFAULT`));
  });
});
