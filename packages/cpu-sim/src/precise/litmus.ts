/**
 * Litmus tests as data (XMC-MODEL.md "Litmus tests"): per CPU code (hex, or assembly that GNU
 * `as` assembles when the test is loaded) and initial registers, what the patching agent does,
 * the built-in INT3 handler's patch table, what to observe, and the expected verdicts: allowed
 * and forbidden outcomes, hazards that must be found and hazards that must not. The checker
 * explores schedules (bounded exhaustive + seeded random) and reports outcomes with counts,
 * hazards by class, and a replayable counterexample per class.
 * @module
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decode, Instruction } from "@xmc/x86-decode";
import { Perm } from "../memory.ts";
import { HAZARD_CLASSES, type Hazard, type HazardClass } from "./hazards.ts";
import {
  type AgentProgram,
  type AgentYield,
  PreciseMachine,
  type Scheduler,
  type TrapResult,
} from "./machine.ts";
import {
  explorePreemptionBounded,
  type PreemptionScheduler,
  RandomScheduler,
  ScriptedScheduler,
} from "./schedule.ts";

/** A litmus test, parsed and assembled. */
export interface LitmusTest {
  id: string;
  title: string;
  file: string;
  options: { cpus: number; fetchBlock: number; prefetch: number; strict: boolean; ipiInTrap: boolean };
  segments: { at: number; bytes: Uint8Array; perm: number }[];
  data: { at: number; size: number }[];
  cpus: { rip: number; regs: Record<string, number> }[];
  agent: AgentStep[];
  int3: { table: { site: number; bytes: Uint8Array }[]; refcount: boolean; retryIfGone: boolean } | undefined;
  observe: string[];
  allowed: Record<string, number | string>[] | undefined;
  forbidden: Record<string, number | string>[];
  mustFind: HazardClass[];
  mustNotFind: HazardClass[];
  schedules: { exhaustive: number; random: number; maxSteps: number };
}

/** Agent steps. */
export type AgentStep =
  | { write: number; bytes: Uint8Array; width: number }
  | { sync: true }
  | { publish: true }
  | { retire: true }
  | { declare: number; len: number }
  | { free: number; len: number }
  | { waitQuiescent: { start: number; len: number }[] }
  | { pause: number };

/** A clear error about a litmus file. */
export class LitmusError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = "LitmusError";
  }
}

const REGS = [
  "rax",
  "rcx",
  "rdx",
  "rbx",
  "rsp",
  "rbp",
  "rsi",
  "rdi",
  "r8",
  "r9",
  "r10",
  "r11",
  "r12",
  "r13",
  "r14",
  "r15",
];

function num(v: unknown, file: string, what: string): number {
  if (typeof v === "number" && Number.isSafeInteger(v)) return v;
  if (typeof v === "string" && /^(0x[0-9a-f]+|\d+)$/i.test(v)) return Number(v);
  throw new LitmusError(file, `${what}: expected a number or 0x… string, got ${JSON.stringify(v)}`);
}

function hexBytes(v: unknown, file: string, what: string): Uint8Array {
  if (typeof v !== "string" || !/^[0-9a-f\s]*$/i.test(v) || v.replace(/\s/g, "").length % 2)
    throw new LitmusError(file, `${what}: expected hex bytes, got ${JSON.stringify(v)}`);
  return Uint8Array.from(Buffer.from(v.replace(/\s/g, ""), "hex"));
}

/** Assemble `lines` (AT&T, .code64) at `at` with GNU as; returns the raw bytes. */
export function assemble(lines: string[], at: number, file: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), "xmc-litmus-"));
  try {
    const s = join(dir, "a.s");
    const o = join(dir, "a.o");
    const bin = join(dir, "a.bin");
    writeFileSync(s, `.code64\n.text\n${lines.join("\n")}\n`);
    try {
      execFileSync("as", ["--64", s, "-o", o], { stdio: ["ignore", "ignore", "pipe"] });
      // Link at the segment's address so that branches to absolute addresses resolve.
      execFileSync(
        "ld",
        ["-m", "elf_x86_64", "--oformat=binary", `-Ttext=0x${at.toString(16)}`, "-e", "0", o, "-o", bin],
        {
          stdio: ["ignore", "ignore", "pipe"],
        },
      );
    } catch (e) {
      const msg = (e as { stderr?: Buffer }).stderr?.toString() ?? String(e);
      throw new LitmusError(file, `assembling code at 0x${at.toString(16)} failed: ${msg.trim()}`);
    }
    return new Uint8Array(readFileSync(bin));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Parse a litmus test (JSON text) from `file`. Code given as `asm` is assembled now (needs `as`). */
export function parseLitmus(text: string, file: string): LitmusTest {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new LitmusError(file, `not valid JSON: ${(e as Error).message}`);
  }
  const o = (j.options ?? {}) as Record<string, unknown>;
  const sym = (j.symbols ?? {}) as Record<string, unknown>;
  const addr = (v: unknown, what: string): number =>
    typeof v === "string" && v in sym ? num(sym[v], file, `symbol ${v}`) : num(v, file, what);
  const segments = ((j.code ?? []) as Record<string, unknown>[]).map((c, i) => {
    const at = addr(c.at, `code[${i}].at`);
    const bytes = c.asm
      ? assemble((c.asm as string[]).map(String), at, file)
      : hexBytes(c.hex, file, `code[${i}].hex`);
    const perm = c.perm === "rwx" ? Perm.RWX : Perm.RX;
    return { at, bytes, perm };
  });
  const data = ((j.data ?? []) as Record<string, unknown>[]).map((d, i) => ({
    at: addr(d.at, `data[${i}].at`),
    size: num(d.size ?? 4096, file, `data[${i}].size`),
  }));
  const cpus = ((j.cpus ?? []) as Record<string, unknown>[]).map((c, i) => {
    const regs: Record<string, number> = {};
    for (const [k, v] of Object.entries((c.regs ?? {}) as Record<string, unknown>)) {
      if (!REGS.includes(k)) throw new LitmusError(file, `cpus[${i}].regs: unknown register ${k}`);
      regs[k] = addr(v, `cpus[${i}].regs.${k}`);
    }
    return { rip: addr(c.rip, `cpus[${i}].rip`), regs };
  });
  if (cpus.length === 0) throw new LitmusError(file, "no cpus");
  const agent: AgentStep[] = ((j.agent ?? []) as Record<string, unknown>[]).map((s, i) => {
    if ("write" in s)
      return {
        write: addr(s.write, `agent[${i}].write`),
        bytes: hexBytes(s.hex, file, `agent[${i}].hex`),
        width: num(s.width ?? 8, file, "width"),
      };
    if ("sync" in s) return { sync: true };
    if ("publish" in s) return { publish: true };
    if ("retire" in s) return { retire: true };
    if ("declare" in s)
      return { declare: addr(s.declare, `agent[${i}].declare`), len: num(s.len, file, "len") };
    if ("free" in s) return { free: addr(s.free, `agent[${i}].free`), len: num(s.len, file, "len") };
    if ("waitQuiescent" in s)
      return {
        waitQuiescent: (s.waitQuiescent as Record<string, unknown>[]).map((r) => ({
          start: addr(r.at, "waitQuiescent.at"),
          len: num(r.len, file, "waitQuiescent.len"),
        })),
      };
    if ("pause" in s) return { pause: num(s.pause, file, "pause") };
    throw new LitmusError(file, `agent[${i}]: unknown step ${JSON.stringify(s)}`);
  });
  const i3 = j.int3 as Record<string, unknown> | undefined;
  const int3 = i3
    ? {
        table: ((i3.table ?? []) as Record<string, unknown>[]).map((e, i) => ({
          site: addr(e.site, `int3.table[${i}].site`),
          bytes: hexBytes(e.hex, file, `int3.table[${i}].hex`),
        })),
        refcount: i3.refcount !== false,
        retryIfGone: i3.retryIfGone === true,
      }
    : undefined;
  const ex = (j.expect ?? {}) as Record<string, unknown>;
  const classes = (v: unknown): HazardClass[] => {
    const arr = (v ?? []) as string[];
    for (const c of arr)
      if (!HAZARD_CLASSES.includes(c as HazardClass))
        throw new LitmusError(file, `unknown hazard class ${c}`);
    return arr as HazardClass[];
  };
  const sch = (j.schedules ?? {}) as Record<string, unknown>;
  return {
    id: String(j.id ?? file),
    title: String(j.title ?? ""),
    file,
    options: {
      cpus: cpus.length,
      fetchBlock: num(o.fetchBlock ?? 16, file, "fetchBlock"),
      prefetch: num(o.prefetch ?? 2, file, "prefetch"),
      strict: o.strict === true,
      ipiInTrap: o.ipiInTrap === true,
    },
    segments,
    data,
    cpus,
    agent,
    int3,
    observe: ((j.observe ?? []) as string[]).map(String),
    allowed: ex.allowed as Record<string, number | string>[] | undefined,
    forbidden: (ex.forbidden ?? []) as Record<string, number | string>[],
    mustFind: classes(ex.mustFind),
    mustNotFind: classes(ex.mustNotFind),
    schedules: {
      exhaustive: num(sch.exhaustive ?? 2000, file, "schedules.exhaustive"),
      random: num(sch.random ?? 1000, file, "schedules.random"),
      maxSteps: num(sch.maxSteps ?? 5000, file, "schedules.maxSteps"),
    },
  };
}

/** Load a litmus test from a file. */
export function loadLitmus(path: string): LitmusTest {
  return parseLitmus(readFileSync(path, "utf8"), path);
}

/** The result of one run. */
export interface LitmusRun {
  outcome: Record<string, number | string>;
  /** Outcome as one line (`cpu1.rax=1 …`). */
  key: string;
  hazards: Hazard[];
  /** Decisions made (replay with {@link replayLitmus}). */
  choices: number[];
  completed: boolean;
}

/** Build a fresh machine for `t` (options may override the test's fetch settings). */
export function buildMachine(
  t: LitmusTest,
  over: { fetchBlock?: number; prefetch?: number; strict?: boolean } = {},
): PreciseMachine {
  const m = new PreciseMachine({
    cpus: t.options.cpus,
    fetchBlock: over.fetchBlock ?? t.options.fetchBlock,
    prefetch: over.prefetch ?? t.options.prefetch,
    strict: over.strict ?? t.options.strict,
    ipiInTrap: t.options.ipiInTrap,
  });
  for (const d of t.data) m.mem.map(d.at, d.size, Perm.RW);
  for (const s of t.segments) m.load(s.at, s.bytes, s.perm);
  t.cpus.forEach((c, i) => {
    m.start(i, c.rip, 0x7000000 + i * 0x100000);
    for (const [k, v] of Object.entries(c.regs)) m.cpus[i]!.setReg64(REGS.indexOf(k), v);
  });
  // The built-in INT3 handler (the text-patch protocol's, as data): a published table of
  // site → new instruction; the handler emulates the new instruction.
  if (t.int3) installInt3(m, t.int3.table, t.int3.refcount, t.int3.retryIfGone);
  m.setAgent(agentProgram(t.agent));
  return m;
}

interface Int3State {
  published: boolean;
  refs: number;
  retired: boolean;
}

const tableState = new WeakMap<PreciseMachine, Int3State>();

function installInt3(
  m: PreciseMachine,
  table: { site: number; bytes: Uint8Array }[],
  refcount: boolean,
  retryIfGone: boolean,
): void {
  const st: Int3State = { published: false, refs: 0, retired: false };
  tableState.set(m, st);
  (m as unknown as { int3Refcount: boolean }).int3Refcount = refcount;
  const insn = new Instruction();
  m.onTrap("bp", function* (ctx): Generator<void, TrapResult, void> {
    // Step 1 (with the trap delivery): take a reference on the table (inc-not-zero), or with
    // no refcounts just read the table pointer.
    let held = false;
    if (refcount) {
      if (st.published && st.refs > 0) {
        st.refs++;
        held = true;
      }
    } else held = st.published;
    yield;
    // Step 2: look up the site and emulate the new instruction. Without refcounts the table
    // may have been retired (freed) in between: the lookup then finds nothing.
    const visible = held && (refcount || st.published);
    const e = visible ? table.find((x) => x.site === ctx.address) : undefined;
    if (refcount && held) st.refs--;
    if (!e) {
      // kprobe-style handlers check whether the INT3 is still there: if it is gone, the trap
      // was spurious and the instruction is re-executed (Linux's kprobe_int3_handler does this;
      // the text_poke_bp handler does not).
      if (retryIfGone && m.read(ctx.address, 1)[0] !== 0xcc) return "retry";
      return "declined";
    }
    emulate(m, ctx.cpu, e.site, e.bytes, insn);
    return "handled";
  });
}

/** Emulate `bytes` (the new instruction) at `site` on `cpu` (CALL, JMP, Jcc, RET, NOP). */
function emulate(
  m: PreciseMachine,
  cpu: import("../cpu.ts").Cpu,
  site: number,
  bytes: Uint8Array,
  insn: Instruction,
): void {
  const len = decode(bytes, 0, site, 64, insn);
  if (len === 0) throw new Error(`int3 table: new bytes at 0x${site.toString(16)} do not decode`);
  const b0 = bytes[0]!;
  const next = site + len;
  if (b0 === 0xe8) {
    const sp = cpu.reg64(4) - 8;
    m.mem.write64(sp, next | 0, Math.floor(next / 4294967296));
    cpu.setReg64(4, sp);
    cpu.rip = insn.target;
  } else if (b0 === 0xe9 || b0 === 0xeb) cpu.rip = insn.target;
  else if ((b0 >= 0x70 && b0 <= 0x7f) || (b0 === 0x0f && bytes[1]! >= 0x80 && bytes[1]! <= 0x8f)) {
    const cc = b0 === 0x0f ? bytes[1]! & 15 : b0 & 15;
    cpu.rip = cpu.cond(cc) ? insn.target : next;
  } else if (b0 === 0xc3) {
    const lo = m.mem.read64(cpu.reg64(4));
    cpu.rip = (m.mem.hi >>> 0) * 4294967296 + (lo >>> 0);
    cpu.setReg64(4, cpu.reg64(4) + 8);
  } else cpu.rip = next; // NOP of any length: a jump over it
}

function agentProgram(steps: AgentStep[]): AgentProgram {
  return function* (m: PreciseMachine): Generator<AgentYield, void, void> {
    const st = () => tableState.get(m);
    for (const s of steps) {
      if ("write" in s) {
        // A write is a series of stores at `width`, split at 8-byte alignment boundaries.
        let off = 0;
        while (off < s.bytes.length) {
          const a = s.write + off;
          let n = Math.min(s.width, s.bytes.length - off, 8 - (a % 8));
          if (n < 1) n = 1;
          m.write(a, s.bytes.subarray(off, off + n));
          off += n;
          if (off < s.bytes.length) yield;
        }
      } else if ("sync" in s) {
        const b = m.sendIpi(m.syncCore);
        yield { wait: () => b.acked >= b.targets.length, why: "sync acknowledgements" };
      } else if ("publish" in s) {
        const t = st();
        if (t) {
          t.published = true;
          t.refs = 1;
          t.retired = false;
        }
      } else if ("retire" in s) {
        const t = st();
        if (t) {
          if ((m as unknown as { int3Refcount: boolean }).int3Refcount) {
            t.refs--; // drop the patcher's own reference, then wait for handlers to leave
            yield { wait: () => t.refs === 0, why: "int3 handlers to leave" };
          }
          t.published = false;
          t.retired = true;
        }
      } else if ("declare" in s) m.declarePatched(s.declare, s.len);
      else if ("free" in s) m.freeExec(s.free, s.len);
      else if ("waitQuiescent" in s) {
        const ranges = s.waitQuiescent;
        yield { wait: () => m.quiescent(ranges), why: "quiescence" };
      } else if ("pause" in s) for (let i = 0; i < s.pause; i++) yield;
      yield;
    }
  };
}

function observeAll(t: LitmusTest, m: PreciseMachine, completed: boolean): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  const ends = m.ends();
  for (const key of t.observe) {
    let r: RegExpExecArray | null;
    if ((r = /^cpu(\d+)\.(\w+)$/.exec(key))) {
      const c = m.cpus[Number(r[1])];
      if (!c) continue;
      if (r[2] === "end") out[key] = ends[Number(r[1])] ?? "";
      else if (r[2] === "rip") out[key] = c.rip;
      else out[key] = c.reg64(REGS.indexOf(r[2]!));
    } else if ((r = /^mem(8|16|32|64):(0x[0-9a-f]+|\d+)$/i.exec(key))) {
      const a = Number(r[2]);
      const bytes = m.read(a, Number(r[1]) / 8);
      let v = 0;
      for (let i = bytes.length - 1; i >= 0; i--) v = v * 256 + bytes[i]!;
      out[key] = v;
    }
  }
  if (!completed) out.completed = "no";
  return out;
}

function keyOf(o: Record<string, number | string>): string {
  return Object.entries(o)
    .map(([k, v]) => `${k}=${typeof v === "number" ? v : JSON.stringify(v)}`)
    .join(" ");
}

/** Run `t` once with `scheduler`. */
export function runLitmus(
  t: LitmusTest,
  scheduler: Scheduler,
  over: { fetchBlock?: number; prefetch?: number; strict?: boolean } = {},
): LitmusRun {
  const m = buildMachine(t, over);
  const completed = m.run(scheduler, t.schedules.maxSteps);
  const outcome = observeAll(t, m, completed);
  return { outcome, key: keyOf(outcome), hazards: m.hazards, choices: m.choices.slice(), completed };
}

/** Replay a recorded run exactly (e.g. a counterexample). */
export function replayLitmus(
  t: LitmusTest,
  choices: readonly number[],
  over: Parameters<typeof runLitmus>[2] = {},
): LitmusRun {
  return runLitmus(t, new ScriptedScheduler(choices), over);
}

function matches(o: Record<string, number | string>, pat: Record<string, number | string>): boolean {
  return Object.entries(pat).every(([k, v]) => o[k] === v);
}

/** A counterexample: the first run that showed a hazard class or a forbidden outcome. */
export interface Counterexample {
  what: string;
  seed: number | undefined;
  choices: number[];
  hazard: Hazard | undefined;
  outcome: string;
}

/** What the checker found for one test. */
export interface LitmusReport {
  id: string;
  title: string;
  runs: number;
  /** Runs cut at the step bound (not judged for outcomes). */
  incomplete: number;
  exhaustiveRuns: number;
  /** True when every schedule within the preemption bound was run. */
  exhaustiveComplete: boolean;
  /** The preemption bound reached. */
  preemptionBound: number;
  randomRuns: number;
  outcomes: Map<string, number>;
  hazards: Record<HazardClass, number>;
  /** Runs that had at least one hazard of the class. */
  runsWithHazard: Record<HazardClass, number>;
  counterexamples: Counterexample[];
  /** Verdict problems (empty = the test passes). */
  failures: string[];
}

/** Explore schedules of `t` and judge the expectations. */
export function checkLitmus(
  t: LitmusTest,
  opts: {
    random?: number;
    exhaustive?: number;
    preemptions?: number;
    seed?: number;
    over?: Parameters<typeof runLitmus>[2];
  } = {},
): LitmusReport {
  const outcomes = new Map<string, number>();
  const hazards = Object.fromEntries(HAZARD_CLASSES.map((c) => [c, 0])) as Record<HazardClass, number>;
  const runsWithHazard = Object.fromEntries(HAZARD_CLASSES.map((c) => [c, 0])) as Record<HazardClass, number>;
  const counterexamples: Counterexample[] = [];
  const seenCx = new Set<string>();
  const failures: string[] = [];
  let runs = 0;
  let incomplete = 0;
  const record = (r: LitmusRun, seed: number | undefined) => {
    runs++;
    outcomes.set(r.key, (outcomes.get(r.key) ?? 0) + 1);
    const classes = new Set<HazardClass>();
    for (const h of r.hazards) {
      hazards[h.cls]++;
      classes.add(h.cls);
      if (!seenCx.has(h.cls)) {
        seenCx.add(h.cls);
        counterexamples.push({ what: h.cls, seed, choices: r.choices, hazard: h, outcome: r.key });
      }
    }
    for (const c of classes) runsWithHazard[c]++;
    if (!r.completed) {
      incomplete++;
      return; // a run cut at the step bound has no final outcome to judge (its hazards count)
    }
    const forbidden = t.forbidden.some((p) => matches(r.outcome, p));
    const unexpected = t.allowed !== undefined && !t.allowed.some((p) => matches(r.outcome, p));
    if ((forbidden || unexpected) && !seenCx.has(`outcome:${r.key}`)) {
      seenCx.add(`outcome:${r.key}`);
      counterexamples.push({
        what: forbidden ? "forbidden outcome" : "outcome not allowed",
        seed,
        choices: r.choices,
        hazard: undefined,
        outcome: r.key,
      });
    }
  };
  const ex = explorePreemptionBounded(
    (sched: PreemptionScheduler) => record(runLitmus(t, sched, opts.over), undefined),
    opts.preemptions ?? 3,
    opts.exhaustive ?? t.schedules.exhaustive,
  );
  const nRandom = opts.random ?? t.schedules.random;
  const base = opts.seed ?? 1;
  for (let i = 0; i < nRandom; i++) record(runLitmus(t, new RandomScheduler(base + i), opts.over), base + i);
  if (incomplete * 2 > runs)
    failures.push(`${incomplete} of ${runs} runs hit the step bound (${t.schedules.maxSteps})`);
  for (const c of t.mustFind)
    if (runsWithHazard[c] === 0) failures.push(`hazard ${c} must be found but was not`);
  for (const c of t.mustNotFind)
    if (runsWithHazard[c] > 0) failures.push(`hazard ${c} must not occur but was found`);
  for (const cx of counterexamples)
    if (cx.what === "forbidden outcome" || cx.what === "outcome not allowed")
      failures.push(`${cx.what}: ${cx.outcome}`);
  return {
    id: t.id,
    title: t.title,
    runs,
    incomplete,
    exhaustiveRuns: ex.runs,
    exhaustiveComplete: ex.complete,
    preemptionBound: ex.bound,
    randomRuns: nRandom,
    outcomes,
    hazards,
    runsWithHazard,
    counterexamples,
    failures,
  };
}
