/**
 * Acceptance 4: every refusal rule, each with a test that nothing was written — no store
 * through the port and the text unchanged for a refused probe; for a djprobe whose
 * optimization is refused, exactly what a plain kprobe writes (its slot and one INT3), never a
 * detour or a byte of the jump.
 */
import { describe, expect, test } from "vitest";
import {
  OPTIMIZE_RULES,
  ProbeError,
  type ProbeRule,
  type ProbeSpec,
  planInsn,
  relocate,
} from "../src/index.ts";
import { instructionStarts } from "./helpers/placements.ts";
import { functions, program, type Session, session } from "./helpers/run.ts";

/** Every symbol of the work fixture (the zoo's labels are not functions). */
function sym(name: string): number {
  for (const s of program("work").elf.symbols()) if (s.name === name) return Number(s.value);
  throw new Error(`no symbol ${name}`);
}

const fn = (name: string) => functions("work").get(name)!;

/** A snapshot of every function's text of the session's program. */
function text(s: Session, prog = "work"): Uint8Array[] {
  return [...functions(prog).values()].map((f) => s.port.read(f.start, f.size).slice());
}

/** Register `spec` in `s` (after `setup`) and check it is refused by `rule` with nothing written. */
function refusedCleanly(rule: ProbeRule, spec: ProbeSpec, prog = "work", setup?: (s: Session) => void): void {
  const s = session(prog, { argv: prog === "work" ? ["2"] : [] });
  setup?.(s);
  const before = text(s, prog);
  const stores = s.port.stores;
  let err: unknown;
  try {
    s.probes.register(spec);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ProbeError);
  expect((err as ProbeError).rule).toBe(rule);
  expect(s.port.stores).toBe(stores);
  expect(text(s, prog)).toEqual(before);
  expect(s.probes.list().length).toBe(setup ? s.probes.list().length : 0);
}

describe("placement refusals: a typed error, no store, text unchanged", () => {
  const cases: [ProbeRule, string, ProbeSpec][] = [
    ["no-symbol", "unknown symbol", { kind: "kprobe", symbol: "no_such_function" }],
    ["no-symbol", "address in no function", { kind: "kprobe", address: 0x10 }],
    ["boundary", "inside an instruction (leaf+1)", { kind: "kprobe", address: fn("leaf").start + 1 }],
    ["boundary", "offset past the function", { kind: "kprobe", symbol: "leaf", offset: 4096 }],
    ["undecodable", "a function that does not decode (INTO)", { kind: "kprobe", symbol: "zoo_bad" }],
    ["trap-insn", "INT3", { kind: "kprobe", address: sym("zoo_int3") }],
    ["trap-insn", "INT n", { kind: "kprobe", address: sym("zoo_intn") }],
    ["trap-insn", "UD2", { kind: "kprobe", address: sym("zoo_ud2") }],
    ["trap-insn", "INT1", { kind: "djprobe", address: sym("zoo_int1") }],
    ["changes-if", "CLI", { kind: "kprobe", address: sym("zoo_cli") }],
    ["changes-if", "STI", { kind: "kprobe", address: sym("zoo_sti") }],
    ["changes-if", "POPF", { kind: "kprobe", address: sym("zoo_popf") }],
    ["iret", "IRETQ", { kind: "kprobe", address: sym("zoo_iret") }],
    ["far-branch", "far JMP", { kind: "kprobe", address: sym("zoo_ljmp") }],
    ["far-branch", "far CALL", { kind: "kprobe", address: sym("zoo_lcall") }],
    ["far-branch", "far RET", { kind: "kprobe", address: sym("zoo_lret") }],
    ["privileged", "HLT", { kind: "kprobe", address: sym("zoo_hlt") }],
    ["syscall", "SYSCALL", { kind: "kprobe", address: sym("zoo_syscall") }],
    [
      "unsupported",
      "XBEGIN (a relative target, not a branch)",
      { kind: "kprobe", address: sym("zoo_xbegin") },
    ],
    ["unsupported", "an FS-relative indirect jump", { kind: "kprobe", address: sym("zoo_fsjmp") }],
    [
      "kretprobe-entry",
      "a kretprobe not at a function's entry",
      { kind: "kretprobe", address: fn("leaf").start + 3 },
    ],
  ];
  for (const [rule, what, spec] of cases) test(`${rule}: ${what}`, () => refusedCleanly(rule, spec));

  test("marker: no nop5 marker of that name / a kretprobe on a marker", () => {
    refusedCleanly("marker", { kind: "djprobe", marker: "shop:no_such_marker" }, "shop");
    refusedCleanly("marker", { kind: "kretprobe", marker: "shop:request_start" }, "shop");
  });

  test("in-region: inside the region an optimizable djprobe replaces", () => {
    const mix = fn("mix").start;
    refusedCleanly("in-region", { kind: "kprobe", address: mix + 3 }, "work", (s) => {
      const { probe } = s.probes.register({ kind: "djprobe", address: mix });
      expect(probe.refusal).toBeUndefined();
    });
  });

  test("rip-range: a RIP-relative operand out of reach of the slot", () => {
    // 48 8b 05 <disp32>: mov disp(%rip),%rax — relocated 3 GiB away its target is out of reach.
    const plan = planInsn(Uint8Array.of(0x48, 0x8b, 0x05, 0, 0, 0, 0), 0x401000);
    expect(plan.how).toBe("copy");
    let err: unknown;
    try {
      relocate(plan as Extract<typeof plan, { how: "copy" }>, 0x401000, 0x401000 + 0xc0000000);
    } catch (e) {
      err = e;
    }
    expect((err as ProbeError).rule).toBe("rip-range");
    // Within reach, the displacement is adjusted so that the target stays the same.
    const near = relocate(plan as Extract<typeof plan, { how: "copy" }>, 0x401000, 0x501000);
    expect(new DataView(near.buffer).getInt32(3, true)).toBe(0x401000 - 0x501000);
  });

  test("not-registered: unregister, enable or disable a probe that is not registered", () => {
    const s = session("work", { argv: ["2"] });
    const { probe } = s.probes.register({ kind: "kprobe", symbol: "leaf" });
    s.probes.unregister(probe);
    const stores = s.port.stores;
    for (const f of [
      () => s.probes.unregister(probe),
      () => s.probes.enable(probe),
      () => s.probes.disable(probe),
    ]) {
      expect(f).toThrow(ProbeError);
      try {
        f();
      } catch (e) {
        expect((e as ProbeError).rule).toBe("not-registered");
      }
    }
    expect(s.port.stores).toBe(stores);
  });
});

/** A djprobe whose optimization is refused by `rule`, somewhere in the work fixture. */
function findRefusal(rule: ProbeRule): number {
  const scratch = session("work", { argv: ["2"] });
  const fns = ["emu", "leaf", "fib", "classify", "hash", "apply", "mix", "step", "worker", "main"];
  for (const a of instructionStarts("work", fns)) {
    try {
      const { probe } = scratch.probes.register({ kind: "djprobe", address: a });
      const r = probe.refusal?.rule;
      scratch.probes.unregister(probe);
      if (r === rule) return a;
    } catch {
      /* refused outright */
    }
  }
  throw new Error(`no djprobe placement in work is refused by ${rule}`);
}

describe("optimizer refusals: the probe stays a kprobe, no detour and no jump byte written", () => {
  for (const rule of OPTIMIZE_RULES)
    test(rule, () => {
      let addr: number;
      let setup: ((s: Session) => void) | undefined;
      let post = false;
      if (rule === "probe-in-region") {
        addr = fn("mix").start;
        setup = (s) => s.agent(s.probes.register({ kind: "kprobe", address: addr + 3 }).steps, 0);
      } else if (rule === "post-handler") {
        addr = fn("mix").start;
        post = true;
      } else addr = findRefusal(rule);
      // What a plain kprobe at the same place writes, in a twin session.
      const twin = session("work", { argv: ["2"] });
      setup?.(twin);
      twin.agent(twin.probes.register({ kind: "kprobe", address: addr }).steps, 0);
      const twinRun = twin.run();
      const s = session("work", { argv: ["2"] });
      setup?.(s);
      const orig = s.port.read(addr, 8).slice();
      const { probe, steps } = s.probes.register({
        kind: "djprobe",
        address: addr,
        ...(post ? { post: () => {} } : {}),
      });
      expect(probe.refusal?.rule).toBe(rule);
      const results: { optimized: number }[] = [];
      s.port.runAgent(steps, 0, (r) => void results.push(r));
      const r = s.run();
      expect(r.out).toBe(twinRun.out);
      expect(probe.state).toBe("kprobe");
      expect(results[0]!.optimized).toBe(0);
      expect(s.probes.totals.hostCalls).toBe(0);
      expect(s.port.stores).toBe(twin.port.stores);
      // The site holds an INT3 and the original tail (with the other probe's INT3): no byte of a jump.
      const want = orig.slice();
      want[0] = 0xcc;
      if (rule === "probe-in-region") want[3] = 0xcc;
      expect([...s.port.read(addr, 8)]).toEqual([...want]);
    });
});
