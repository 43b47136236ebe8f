/**
 * Acceptance 1: each kind of probe on the fixture programs on 4 CPUs — hit counts equal the
 * programs' own counters, handlers see the right registers and arguments (and their register
 * writes take effect), the output is unchanged; and in strict precise mode, zero hazards while
 * probes are registered and removed as the threads run.
 */
import { Br, decode, Instruction } from "@xmc/x86-decode";
import { describe, expect, test } from "vitest";
import type { Probe, ProbeContext, ProbeRunResult, ProbeSteps } from "../src/index.ts";
import { instructionStarts, reference } from "./helpers/placements.ts";
import { counters, functions, program, session } from "./helpers/run.ts";

const fibs = [0n, 1n];
for (let i = 2; i < 40; i++) fibs.push(fibs[i - 1]! + fibs[i - 2]!);

/** Per-thread counters of the work fixture, summed: "t0 result R fib F classify C ..." lines. */
function workCounts(out: string): Record<string, bigint> {
  const sum: Record<string, bigint> = {};
  for (const line of out.trim().split("\n")) {
    const w = line.split(" ");
    for (let i = 1; i + 1 < w.length; i += 2) sum[w[i]!] = (sum[w[i]!] ?? 0n) + BigInt(w[i + 1]!);
  }
  return sum;
}

const leaf = functions("work").get("leaf")!.start;
/** leaf+3 is `lea 0x1(%rdi,%rdi,2),%rax` (see test/fixtures/src/work.c, built by build.sh). */
const LEAF_LEA = leaf + 3;

describe("shop (markers' fixture), 4 CPUs", () => {
  const plain = session("shop").run();
  const c = counters(plain.out);

  test("kprobe on price: boosted, hits = the program's price count, arguments right", () => {
    const s = session("shop");
    const seen: { id: bigint; tid: bigint; cpu: number }[] = [];
    const { probe, steps } = s.probes.register({
      kind: "kprobe",
      symbol: "price",
      pre: (ctx) => void seen.push({ id: ctx.arg(0), tid: ctx.arg(1) & 0xffffffffn, cpu: ctx.cpu }),
    });
    s.agent(steps, 0);
    const r = s.run();
    expect(r.out).toBe(plain.out);
    expect(BigInt(probe.hits)).toBe(c.price![0]);
    expect(BigInt(seen.length)).toBe(c.price![0]);
    for (const e of seen) expect(e.id / 100000n).toBe(e.tid);
    expect(new Set(seen.map((e) => e.cpu)).size).toBe(4);
    expect(s.probes.totals.boosted).toBe(probe.hits);
  });

  test("djprobe on the nop5 marker request_start: optimized, sees the marker's decoded arguments", () => {
    const s = session("shop");
    let sum = 0n;
    const { probe, steps } = s.probes.register({
      kind: "djprobe",
      marker: "shop:request_start",
      pre: (ctx) => {
        const [tid, id] = ctx.args as [number, bigint];
        expect(id / 100000n).toBe(BigInt(tid));
        sum += id;
      },
    });
    s.agent(steps, 0);
    const r = s.run();
    expect(r.out).toBe(plain.out);
    expect(probe.refusal).toBeUndefined();
    expect(probe.state).toBe("optimized");
    expect(BigInt(probe.hits)).toBe(c.request_start![0]);
    expect(sum).toBe(c.request_start![1]);
    // Nearly every hit went through the jump and the detour's host call.
    expect(s.probes.totals.hostCalls).toBeGreaterThan(probe.hits * 0.9);
  });

  test("kretprobe on price: entries and returns = the price count, return value = the function's", () => {
    const s = session("shop");
    let bad = 0;
    const { probe, steps } = s.probes.register({
      kind: "kretprobe",
      symbol: "price",
      entry: (ctx) => {
        ctx.data = [ctx.arg(0), ctx.arg(1) & 0xffffffffn];
        return true;
      },
      ret: (ctx) => {
        const [id, tid] = ctx.data as [bigint, bigint];
        if (ctx.retval !== (id * 7919n + tid * 13n) % 1000n) bad++;
      },
    });
    s.agent(steps, 0);
    const r = s.run();
    expect(r.out).toBe(plain.out);
    expect(BigInt(probe.hits)).toBe(c.price![0]);
    expect(probe.returns).toBe(probe.hits);
    expect(probe.missed).toBe(0);
    expect(bad).toBe(0);
  });
});

describe("work (own fixture), 4 CPUs", () => {
  const plain = session("work").run();
  const w = workCounts(plain.out);
  const fibEntries = reference("work", []).count(functions("work").get("fib")!.start);

  test("kretprobe on recursive fib: nested instances per thread, each return value = fib(n)", () => {
    const s = session("work");
    let wrong = 0;
    const { probe, steps } = s.probes.register({
      kind: "kretprobe",
      symbol: "fib",
      maxactive: 64,
      entry: (ctx) => {
        ctx.data = Number(ctx.arg(0) & 0xffffffffn);
        return true;
      },
      ret: (ctx) => {
        if (ctx.retval !== fibs[ctx.data as number]) wrong++;
      },
    });
    s.agent(steps, 0);
    const r = s.run();
    expect(r.out).toBe(plain.out);
    // gcc turned one of the two recursive calls into a loop: the program counts calls of the C
    // function, the probe entries of the machine function (the interpreter's count).
    expect(probe.hits).toBe(fibEntries);
    expect(probe.hits).toBeGreaterThan(Number(w.fib) / 3);
    expect(probe.returns).toBe(probe.hits);
    expect(wrong).toBe(0);
  });

  test("kretprobe maxactive: instances beyond the bound are missed and counted", () => {
    const s = session("work");
    const { probe, steps } = s.probes.register({
      kind: "kretprobe",
      symbol: "fib",
      maxactive: 3,
      ret: () => {},
    });
    s.agent(steps, 0);
    const r = s.run();
    expect(r.out).toBe(plain.out);
    expect(probe.hits).toBe(fibEntries);
    expect(probe.missed).toBeGreaterThan(0);
    expect(probe.returns + probe.missed).toBe(probe.hits);
  });

  test("kprobe with a post handler (unboosted): the post handler sees the instruction's effect", () => {
    const s = session("work");
    let pre = 0;
    let post = 0;
    let wrong = 0;
    // Keyed by the thread's stack pointer: a thread may move to another CPU between the traps.
    let rdi = new Map<bigint, bigint>();
    const { probe, steps } = s.probes.register({
      kind: "kprobe",
      address: LEAF_LEA,
      pre: (ctx) => {
        pre++;
        rdi.set(ctx.reg(4), ctx.reg(7));
      },
      post: (ctx) => {
        post++;
        if (ctx.reg(0) !== BigInt.asUintN(64, 3n * rdi.get(ctx.reg(4))! + 1n)) wrong++;
      },
    });
    s.agent(steps, 0);
    const r = s.run();
    expect(r.out).toBe(plain.out);
    expect(BigInt(probe.hits)).toBe(w.leaf);
    expect(pre).toBe(probe.hits);
    expect(post).toBe(probe.hits);
    expect(wrong).toBe(0);
    expect(s.probes.totals.boosted).toBe(0);
    rdi = new Map();
  });

  for (const kind of ["kprobe", "djprobe"] as const)
    test(`${kind}: a register write in the pre handler takes effect (leaf computes 3*10+1)`, () => {
      const s = session("work");
      const rets: bigint[] = [];
      const a = s.probes.register({ kind, address: LEAF_LEA, pre: (ctx) => ctx.setReg(7, 10n) });
      const b = s.probes.register({
        kind: "kretprobe",
        symbol: "leaf",
        ret: (ctx) => void rets.push(ctx.retval),
      });
      s.agent(a.steps, 0);
      s.agent(b.steps, 0);
      const r = s.run();
      expect(r.code).toBe(0);
      expect(a.probe.state).toBe(kind === "djprobe" ? "optimized" : "kprobe");
      expect(BigInt(a.probe.hits)).toBe(workCounts(r.out).leaf);
      expect(rets.length).toBe(a.probe.hits);
      expect(rets.every((v) => v === 31n)).toBe(true);
    });

  test("djprobe in a function with a switch table: refused unless its targets are known", () => {
    const c = functions("work").get("classify")!;
    const { elf } = program("work");
    // Find the switch's `jmp *table(,%reg,8)` and read the table's 8 entries from the file.
    const code = elf.bytes.subarray(
      elf.addressToOffset(BigInt(c.start))!,
      elf.addressToOffset(BigInt(c.start))! + c.size,
    );
    const insn = new Instruction();
    let table = -1;
    for (let at = 0; at < code.length; ) {
      const n = decode(code, at, c.start + at, 64, insn);
      if (insn.branch === Br.JmpInd) table = insn.memDisp;
      at += n;
    }
    const t0 = elf.addressToOffset(BigInt(table))!;
    const dv = new DataView(elf.bytes.buffer, elf.bytes.byteOffset + t0, 64);
    const targets = Array.from({ length: 8 }, (_, i) => Number(dv.getBigUint64(8 * i, true)));
    for (const t of targets) expect(t >= c.start && t < c.start + c.size).toBe(true);
    expect(session("work").probes.register({ kind: "djprobe", symbol: "classify" }).probe.refusal?.rule).toBe(
      "indirect-jump",
    );
    const s = session("work", { probes: { indirectTargets: new Map([["classify", targets]]) } });
    const { probe, steps } = s.probes.register({ kind: "djprobe", symbol: "classify" });
    s.agent(steps, 0);
    const r = s.run();
    expect(r.out).toBe(plain.out);
    expect(probe.state).toBe("optimized");
    expect(BigInt(probe.hits)).toBe(w.classify);
    // Regions with a case label inside them are refused by the known targets.
    const scratch = session("work", { probes: { indirectTargets: new Map([["classify", targets]]) } });
    const why: string[] = [];
    for (const a of instructionStarts("work", ["classify"])) {
      try {
        const { probe: p } = scratch.probes.register({ kind: "djprobe", address: a });
        if (p.refusal?.rule === "branch-into-region") why.push(p.refusal.message);
        scratch.probes.unregister(p);
      } catch {
        /* refused outright */
      }
    }
    expect(why.some((m) => m.includes("indirect jump"))).toBe(true);
  });

  test("djprobe on mix's entry: optimized, hits = the mix count, arguments right", () => {
    const s = session("work");
    let bad = 0;
    const { probe, steps } = s.probes.register({
      kind: "djprobe",
      symbol: "mix",
      pre: (ctx) => {
        if ((ctx.arg(2) & 0xffffffffn) > 3n) bad++;
      },
    });
    s.agent(steps, 0);
    const r = s.run();
    expect(r.out).toBe(plain.out);
    expect(probe.state).toBe("optimized");
    expect(BigInt(probe.hits)).toBe(w.mix);
    expect(bad).toBe(0);
  });

  test("kprobes on every instruction of emu (LOOP, JRCXZ, RIP-relative, indirect calls/jumps, RET imm)", () => {
    const s = session("work");
    const emu = functions("work").get("emu")!;
    const probes: Probe[] = [];
    let k = 0;
    for (let a = emu.start; a < emu.start + emu.size; a++) {
      try {
        const { probe, steps } = s.probes.register({
          kind: "kprobe",
          address: a,
          ...(k++ % 2 ? { post: () => {} } : {}),
        });
        s.agent(steps, 0);
        probes.push(probe);
      } catch {
        /* not a boundary, or ud2 */
      }
    }
    const r = s.run();
    expect(r.out).toBe(plain.out);
    expect(probes.length).toBeGreaterThan(15);
    expect(s.probes.totals.emulated).toBeGreaterThan(0);
    const ref = reference("work", []);
    for (const p of probes) expect(p.hits, p.name).toBe(ref.count(p.address));
  });
});

/** The most executed instruction of `fn` where the optimizer accepts a djprobe. */
function hotOptimizable(name: string, fn: string, argv: string[]): number {
  const ref = reference(name, argv);
  const scratch = session(name, { argv });
  let best = -1;
  for (const a of instructionStarts(name, [fn])) {
    try {
      const { probe } = scratch.probes.register({ kind: "djprobe", address: a });
      if (probe.refusal === undefined && (best < 0 || ref.count(a) > ref.count(best))) best = a;
      scratch.probes.unregister(probe);
    } catch {
      /* refused: not a candidate */
    }
  }
  if (best < 0 || ref.count(best) === 0) throw new Error(`${name}: no optimizable hot instruction in ${fn}`);
  return best;
}

describe("strict precise mode: registered and removed while the threads run", () => {
  test("kprobe, kretprobe, djprobe (function and marker) on shop: zero hazards, output unchanged", () => {
    // 4 threads x 150 requests: about 40,000 modeled cycles per CPU.
    const argv = ["150"];
    const plain = session("shop", { argv }).run();
    const s = session("shop", { argv, precise: { strict: true } });
    const results: ProbeRunResult[] = [];
    const later = (at: number, body: () => ProbeSteps) =>
      s.port.runAgent(
        (function* () {
          return yield* body();
        })(),
        at,
        (r) => void results.push(r),
      );
    const made: Probe[] = [];
    const reg = (spec: Parameters<typeof s.probes.register>[0]) => () => {
      const { probe, steps } = s.probes.register(spec);
      made.push(probe);
      return steps;
    };
    const noop = (_: ProbeContext) => {};
    later(1_000, reg({ kind: "kprobe", symbol: "price", pre: noop }));
    later(1_000, reg({ kind: "kretprobe", symbol: "price", ret: noop }));
    later(2_000, reg({ kind: "djprobe", marker: "shop:request_start", pre: noop }));
    later(2_000, reg({ kind: "djprobe", address: hotOptimizable("shop", "worker", argv), pre: noop }));
    later(15_000, () => s.probes.disable(made[2]!));
    later(20_000, () => s.probes.enable(made[2]!));
    for (let i = 0; i < 4; i++) later(26_000 + i * 1_000, () => s.probes.unregister(made[i]!));
    const r = s.run();
    expect(r.out).toBe(plain.out);
    expect(made.length).toBe(4);
    for (const p of made) {
      expect(p.registered).toBe(false);
      expect(p.hits, p.name).toBeGreaterThan(0);
    }
    // Returns after the unregistration restore the address without calling the handler.
    expect(made[1]!.returns).toBeLessThanOrEqual(made[1]!.hits);
    expect(made[1]!.hits - made[1]!.returns).toBeLessThanOrEqual(4);
    expect(made[1]!.active).toBe(0);
    expect(s.machine.precise!.hazards).toEqual([]);
    // Both djprobes were optimized, the marker one twice (disabled, enabled), and all undone.
    const sum = (k: "optimized" | "unoptimized" | "freed") => results.reduce((a, r) => a + r[k], 0);
    expect(sum("optimized")).toBe(3);
    expect(sum("unoptimized")).toBe(3);
    expect(sum("freed")).toBeGreaterThanOrEqual(3);
    expect(s.probes.totals.hostCalls).toBeGreaterThan(0);
  });
});

describe("the checks have teeth (deliberately unsafe optimizer, strict precise mode)", () => {
  test("optimizing a region a branch targets: branch-into-patch is reported", () => {
    // A loop head inside a region: mix's loop, whose back edge lands inside the region.
    const scratch = session("work", { argv: ["1"] });
    let addr = -1;
    const ref = reference("work", ["1"]);
    for (const a of instructionStarts("work", ["mix", "hash", "step", "fib"])) {
      try {
        const { probe } = scratch.probes.register({ kind: "djprobe", address: a });
        if (probe.refusal?.rule === "branch-into-region" && ref.count(a) > 0 && addr < 0) addr = a;
        scratch.probes.unregister(probe);
      } catch {
        /* refused outright */
      }
    }
    expect(addr).toBeGreaterThan(0);
    const s = session("work", {
      argv: ["1"],
      precise: { strict: true },
      probes: { unsafe: { ignoreBranchTargets: true } },
    });
    const { probe, steps } = s.probes.register({ kind: "djprobe", address: addr });
    expect(probe.refusal).toBeUndefined();
    s.agent(steps, 0);
    s.run();
    const classes = new Set(s.machine.precise!.hazards.map((h) => h.cls));
    expect(classes.has("branch-into-patch")).toBe(true);
  });
});

describe("optimization waits for quiescence", () => {
  test("no byte of the jump is written while some thread may be inside the region or the slot", () => {
    const s = session("work");
    const mix = functions("work").get("mix")!.start;
    let answers = 0;
    let quiet = false;
    let wroteEarly = false;
    const quiescent = s.port.quiescent.bind(s.port);
    // The first 40 answers say "someone is inside"; the jump may only be written after that.
    s.port.quiescent = (r) => {
      quiet = ++answers > 40 && quiescent(r);
      return quiet;
    };
    const write = s.port.write.bind(s.port);
    s.port.write = (a: number, b: Uint8Array) => {
      if (a > mix && a < mix + 5 && !quiet) wroteEarly = true;
      if (a === mix && b[0] === 0xe9 && !quiet) wroteEarly = true;
      write(a, b);
    };
    const { probe, steps } = s.probes.register({ kind: "djprobe", address: mix });
    s.agent(steps, 0);
    const r = s.run();
    expect(r.code).toBe(0);
    expect(answers).toBeGreaterThan(40);
    expect(wroteEarly).toBe(false);
    expect(probe.state).toBe("optimized");
  });
});
