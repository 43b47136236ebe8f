/**
 * Seeded random probe placements over the instructions of a program's functions, the
 * reference they are judged against (instruction execution counts of an unprobed run with the
 * interpreter's blocks off), and one probed run's verdict.
 */
import type { ProbeKind } from "../../src/index.ts";
import { decodeFunction, OPTIMIZE_RULES, ProbeError } from "../../src/index.ts";
import { executions, functions, program, type Session, session } from "./run.ts";

/** xorshift32: small, seeded, good enough to pick placements. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

/** Every instruction start of the named functions, decoded from the file. */
export function instructionStarts(name: string, fnNames: readonly string[]): number[] {
  const fns = functions(name);
  const { elf } = program(name);
  const out: number[] = [];
  for (const f of fnNames) {
    const r = fns.get(f);
    if (!r) throw new Error(`${name}: no function ${f}`);
    const off = elf.addressToOffset(BigInt(r.start))!;
    const code = decodeFunction(f, r.start, elf.bytes.subarray(off, off + r.size));
    if (code.error) throw new Error(`${name}: ${f}: ${code.error}`);
    for (const i of code.insns) out.push(i.addr);
  }
  return out;
}

/** The unprobed run: output, exit status, and how often each instruction ran. */
export interface Reference {
  out: string;
  code: number;
  count(addr: number): number;
  /** Instructions that ran before `main` (probes are armed while they run: not placed there). */
  preMain: Set<number>;
  /** Instructions executed before `main` started. */
  preMainInstructions: number;
}

const refs = new Map<string, Reference>();

/** The reference run of `name` with `argv` (cached). */
export function reference(name: string, argv: string[], cpus = 4): Reference {
  const key = `${name} ${argv.join(" ")} ${cpus}`;
  let r = refs.get(key);
  if (!r) {
    const s = session(name, { argv, cpus, countInstructions: true });
    // What ran before main: snapshot the counts when main's first instruction first runs (its
    // uop's handler is wrapped; the reference writes no text, so no uop is ever re-decoded).
    const preMain = new Set<number>();
    let preMainInstructions = -1;
    const main = functions(name).get("main")!;
    const u = s.machine.cache.lookup(main.start);
    const fn = u.fn;
    u.fn = (c, uop) => {
      if (preMainInstructions < 0) {
        // (CPU instruction counters are summed at quantum ends: count the uops' executions.)
        preMainInstructions = 0;
        for (const [, f] of functions(name))
          for (let a = f.start; a < f.start + f.size; a++) {
            const n = executions(s, a);
            if (n > 0) preMain.add(a);
            preMainInstructions += n;
          }
      }
      fn(c, uop);
    };
    const run = s.run();
    if (preMainInstructions < 0) throw new Error(`${name}: main never ran`);
    r = { out: run.out, code: run.code, count: (a) => executions(s, a), preMain, preMainInstructions };
    refs.set(key, r);
  }
  return r;
}

/** One placement's outcome. */
export interface Placement {
  addr: number;
  kind: ProbeKind;
  post: boolean;
  /** The refusal (registration) or the optimizer's refusal (djprobe kept as kprobe). */
  rule?: string;
  hits?: number;
  expected?: number;
  state?: string;
}

/** The verdict of one probed run. */
export interface RunVerdict {
  placements: Placement[];
  outputSame: boolean;
  codeSame: boolean;
  /** Placements whose hits differ from the reference count. */
  wrongHits: Placement[];
  /** Refusals without a known rule (must be none). */
  unjustified: Placement[];
  hazards: Record<string, number>;
  session: Session;
}

/**
 * Place `count` random probes (kprobe or djprobe, some with post handlers, some off-boundary
 * addresses) among `starts`, run the program, and judge every placement.
 */
export function probedRun(
  name: string,
  argv: string[],
  starts: readonly number[],
  count: number,
  seed: number,
  opts: { precise?: boolean; cpus?: number } = {},
): RunVerdict {
  const ref = reference(name, argv, opts.cpus ?? 4);
  const rand = rng(seed);
  const s = session(name, {
    argv,
    cpus: opts.cpus ?? 4,
    seed: 1 + (seed % 7),
    ...(opts.precise ? { precise: { strict: true } } : {}),
  });
  const placements: Placement[] = [];
  const taken = new Set<number>();
  const probes: { p: Placement; probe: { hits: number; state: string; refusal: ProbeError | undefined } }[] =
    [];
  const entries = new Set([...functions(name).values()].map((f) => f.start));
  // Distinct instructions, none that runs before main (probes arm while startup code runs).
  const pool = starts.filter((a) => !ref.preMain.has(a));
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  let armedAt = -1;
  for (let k = 0; k < count; k++) {
    let addr = pool[k % pool.length]!;
    // One in 20 placements is off a boundary (one byte into an instruction of 2+ bytes).
    const off = rand() < 0.05;
    if (off) addr += 1;
    // At a function's entry, one placement in three is a kretprobe.
    const kind: ProbeKind =
      entries.has(addr) && rand() < 0.33 ? "kretprobe" : rand() < 0.5 ? "kprobe" : "djprobe";
    const post = kind === "kprobe" && rand() < 0.3;
    const p: Placement = { addr, kind, post };
    placements.push(p);
    if (taken.has(addr)) {
      p.rule = "duplicate-placement";
      continue;
    }
    try {
      const { probe, steps } = s.probes.register({
        kind,
        address: addr,
        ...(post ? { post: () => {} } : {}),
        ...(kind === "kretprobe" ? { ret: () => {} } : { pre: () => {} }),
      });
      s.agent(steps, 0);
      taken.add(addr);
      probes.push({ p, probe });
    } catch (e) {
      if (!(e instanceof ProbeError)) throw e;
      p.rule = e.rule;
    }
  }
  // When each breakpoint is written (in instructions executed so far).
  const write = s.port.write.bind(s.port);
  s.port.write = (a: number, b: Uint8Array) => {
    if (b.length === 1 && b[0] === 0xcc && taken.has(a))
      armedAt = Math.max(
        armedAt,
        s.machine.cpus.reduce((x, c) => x + c.instructions, 0),
      );
    write(a, b);
  };
  // The probes go in before the program starts: the CPUs' clocks start later than the
  // patching agent's, so the agent writes every INT3 before the first instruction runs.
  for (const c of s.machine.cpus) c.cycles = 1_000_000;
  const r = s.run();
  // Every probe was armed before main started (else early hits could be missing).
  if (probes.length > 0 && (armedAt < 0 || armedAt >= ref.preMainInstructions))
    throw new Error(
      `${name}: probes armed after ${armedAt} instructions, main starts at ${ref.preMainInstructions}`,
    );
  for (const { p, probe } of probes) {
    p.hits = probe.hits;
    p.expected = ref.count(p.addr);
    p.state = probe.state;
    if (p.kind === "djprobe" && probe.state !== "optimized") p.rule = probe.refusal?.rule ?? "not-optimized";
  }
  const known = new Set<string>([
    "boundary",
    "no-symbol",
    "trap-insn",
    "far-branch",
    "iret",
    "changes-if",
    "privileged",
    "syscall",
    "unsupported",
    "in-region",
    "duplicate-placement",
    ...OPTIMIZE_RULES,
  ]);
  const hazards: Record<string, number> = {};
  for (const h of s.machine.precise?.hazards ?? []) hazards[h.cls] = (hazards[h.cls] ?? 0) + 1;
  return {
    placements,
    outputSame: r.out === ref.out,
    codeSame: r.code === ref.code,
    wrongHits: placements.filter((p) => p.hits !== undefined && p.hits !== p.expected),
    unjustified: placements.filter((p) => p.rule !== undefined && !known.has(p.rule)),
    hazards,
    session: s,
  };
}
