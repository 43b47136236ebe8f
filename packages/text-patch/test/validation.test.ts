/**
 * Acceptance 3: every validation rule refuses with a PatchError naming the rule, and nothing
 * was written (no store through the port, memory unchanged, the writer lock free again).
 */
import type * as Sim from "@xmc/cpu-sim";
import { encodeJmp8, encodeJmp32, encodeNop } from "@xmc/x86-decode";
import { beforeAll, describe, expect, test } from "vitest";
import { PatchError, type PatchOptions, type PatchRule, type PatchSite, TextPatcher } from "../src/index.ts";
import { type BuiltScenario, buildScenario, loadSim, type PrecisePort } from "./helpers/precise.ts";

let sim: typeof Sim;
let sc: BuiltScenario;
beforeAll(async () => {
  sim = await loadSim();
  // Sites: 0 NOP5 (<-> JMP32), 1 NOP2 (<-> JMP8), 2 jmp2 marker, 3 Jcc32.
  sc = buildScenario("validation", { cpus: 2, kinds: ["nop5-jmp32", "nop2-jmp8", "jmp2", "jcc32"], sim });
});

function refuses(
  rule: PatchRule,
  act: (p: TextPatcher, port: PrecisePort) => unknown,
  setup?: (p: TextPatcher, port: PrecisePort) => void,
): PatchError {
  const { m, port } = sc.bootMachine();
  const p = new TextPatcher(port, { maxBatch: 4 });
  setup?.(p, port);
  const before = m.read(sc.base, sc.code.length);
  const writes = port.writes;
  const holder = port.lock.holder;
  let err: unknown;
  try {
    act(p, port);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(PatchError);
  const pe = err as PatchError;
  expect(pe.rule).toBe(rule);
  expect(pe.message).toContain(rule);
  expect(port.writes).toBe(writes);
  expect(m.read(sc.base, sc.code.length)).toEqual(before);
  expect(port.lock.holder).toBe(holder);
  return pe;
}

const site = (i: number): PatchSite => sc.sites[i]!;

describe("validation before any write", () => {
  test("boundary: the site is not on an instruction boundary decoded from the known start", () => {
    const s = site(0);
    // From the block start, a site one byte into the NOP5 is inside an instruction.
    const e = refuses("boundary", (p) =>
      p.poke(
        { addr: s.addr + 1, from: s.from, old: s.old.subarray(1, 3) },
        encodeJmp8(s.addr + 1, s.addr + 3),
      ),
    );
    expect(e.site).toBe(s.addr + 1);
    // A known start after the site proves nothing.
    refuses("boundary", (p) => p.poke({ ...s, from: s.addr + 1 }, s.new));
    // Inside the `test $1, %cl` (3 bytes) before the Jcc32 site.
    const j = site(3);
    refuses("boundary", (p) =>
      p.poke({ addr: j.from + 1, from: j.from, old: j.old.subarray(0, 2) }, encodeNop(2)),
    );
  });

  test("whole-instructions: the replaced range is not whole instructions", () => {
    const s = site(1); // NOP2 followed by inc %eax: 5 bytes cover two instructions
    const { m } = sc.bootMachine();
    const five = m.read(s.addr, 5);
    refuses("whole-instructions", (p) =>
      p.poke({ addr: s.addr, from: s.from, old: five }, encodeJmp32(s.addr, s.addr + 9)),
    );
    const n = site(0); // the first 2 bytes of the NOP5: the instruction is longer than the range
    refuses("whole-instructions", (p) =>
      p.poke({ addr: n.addr, from: n.from, old: n.old.subarray(0, 2) }, encodeJmp8(n.addr, n.addr + 2)),
    );
  });

  test("length: the new instruction is not exactly the replaced length, or not 1/2/5/6 bytes", () => {
    const s = site(0);
    refuses("length", (p) => p.poke(s, encodeJmp8(s.addr, s.addr + 7))); // 2 bytes for 5
    refuses("length", (p) => p.poke(s, Uint8Array.of(0xeb, 0x03, 0x90, 0x90, 0x90))); // JMP8 padded with three NOP1s
    refuses("length", (p) => p.poke(s, Uint8Array.of(0xe9, 0, 0, 0))); // a truncated JMP32 of 4 bytes
    const j = site(2); // the jmp2 marker decodes as jmp8 + nop3: 5 bytes, but replace 3 of them
    refuses("length", (p) =>
      p.poke({ addr: j.addr + 2, from: j.addr + 2, old: j.old.subarray(2) }, encodeNop(3)),
    );
  });

  test("new-instruction: the handler cannot emulate the new instruction", () => {
    const s = site(0);
    refuses("new-instruction", (p) => p.poke(s, Uint8Array.of(0xb8, 1, 0, 0, 0))); // mov $1, %eax
    refuses("new-instruction", (p) => p.poke(s, Uint8Array.of(0xff, 0xd0, 0xcc, 0xcc, 0xcc))); // call *%rax, padded
    refuses("new-instruction", (p) => p.poke(s, Uint8Array.of(0x06, 0, 0, 0, 0))); // invalid in 64-bit mode
  });

  test("old-bytes: memory does not hold what the caller expected", () => {
    const s = site(0);
    const e = refuses(
      "old-bytes",
      (p) => p.poke(s, s.new),
      (_p, port) => {
        // Someone else already enabled the site (bypassing the patcher).
        port.write(s.addr, s.new.subarray(0, 1));
      },
    );
    expect(e.message).toMatch(/expected 0f 1f 44 00 00, found e9/);
  });

  test("overlap: sites of one batch overlap", () => {
    const s = site(0);
    refuses("overlap", (p) => p.patch([s, s]));
    refuses(
      "overlap",
      (p) => p.queue(s, s.new),
      (p) => p.queue(s, s.new),
    );
  });

  test("batch-bound: more sites than the bound", () => {
    const sites = [site(0), site(1), site(2), site(3)];
    refuses("batch-bound", (p) => p.patch([...sites, site(0)]));
    refuses(
      "batch-bound",
      (p) => p.queue(site(0), site(0).new),
      (p) => {
        for (const s of sites) p.queue(s, s.new);
      },
    );
  });

  test("one-writer: only one patch at a time (another patcher, or this one, holds the lock)", () => {
    const s = site(0);
    const t = site(1);
    refuses(
      "one-writer",
      (p) => p.poke(t, t.new),
      (p) => {
        const run = p.poke(s, s.new);
        run.next(); // started: the lock is held until it ends
      },
    );
    refuses(
      "one-writer",
      (_p, port) => new TextPatcher(port, { owner: "probes" }).poke(t, t.new),
      (_p, port) => {
        port.lock.tryAcquire("markers");
      },
    );
  });

  test("unsafe: unsafe protocols and variants need unsafe: true", () => {
    const s = site(0);
    const cases: PatchOptions[] = [
      { protocol: "naive" },
      { protocol: "jmp2" },
      { protocol: "jmp2-sync" },
      { omitSync: 1 },
      { omitSync: 2 },
      { omitSync: 3 },
      { refcount: false },
    ];
    for (const o of cases) refuses("unsafe", (p) => p.poke(s, s.new, o));
  });

  test("early: early poke while other CPUs run", () => {
    const s = site(0);
    refuses("early", (p) => p.poke(s, s.new, { protocol: "early" }));
  });

  test("unsupported: stop-machine on a port without it", () => {
    const s = site(0);
    refuses("unsupported", (_p, port) => {
      const { stopMachine: _, ...rest } = port;
      return new TextPatcher({ ...rest, lock: port.lock }).poke(s, s.new, { protocol: "stop-machine" });
    });
  });

  test("shape: the jmp2 scheme on a site that is not a jmp2 marker", () => {
    const s = site(0);
    refuses("shape", (p) => p.poke(s, s.new, { protocol: "jmp2", unsafe: true }));
  });

  test("unreadable: the site is not mapped", () => {
    refuses("unreadable", (p) =>
      p.poke({ addr: 0x900000, from: 0x900000, old: encodeNop(5) }, encodeJmp32(0x900000, 0x900010)),
    );
  });

  test("the accepted forms pass: padded JMP, canonical NOPs, INT3, RET", () => {
    const { port } = sc.bootMachine();
    const p = new TextPatcher(port);
    const s = site(0);
    for (const b of [
      Uint8Array.of(0xeb, 0x03, 0xcc, 0xcc, 0xcc), // JMP8 padded with INT3 (Linux's padding)
      Uint8Array.of(0xeb, 0x03, 0x0f, 0x1f, 0x00), // JMP8 padded with one NOP3
      Uint8Array.of(0xc3, 0xcc, 0xcc, 0xcc, 0xcc), // RET padded
      encodeNop(5),
    ]) {
      const run = p.poke(s, b);
      run.return(undefined as never); // validated; not run
    }
    expect(port.writes).toBe(0);
    expect(port.lock.holder).toBeUndefined();
  });
});
