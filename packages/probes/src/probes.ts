/**
 * Registration and management of every kind of probe.
 *
 * - **kprobe**: an INT3 over the first byte of the instruction (written through text-patch,
 *   whose handler declines traps at a probe's breakpoint). At the trap the pre-handlers run,
 *   then the displaced instruction is emulated (branches, calls, returns, loops, indirect
 *   branches) or run out of line in a slot: `copy; int3` when a post-handler needs the second
 *   trap, else the boosted `copy; jmp back`.
 * - **kretprobe**: a kprobe at the function's entry that swaps the return address for a
 *   trampoline (one INT3 in executable memory); the trampoline's trap runs the return handler
 *   and resumes at the saved address. Instances are keyed by the stack slot of the return
 *   address, so nested and recursive calls and threads never mix; `maxactive` bounds them.
 * - **djprobe** (optprobe): first a kprobe; then, when the optimizer accepts the region (the
 *   instructions covering 5 bytes), a detour buffer is written, every thread must be out of the
 *   region and the slot (quiescence), and the region's first 5 bytes become `jmp detour` by the
 *   INT3 protocol (tail, sync, first byte, sync). Unoptimized the same way back to the kprobe.
 *
 * Every call that changes the text returns the steps that make the text agree (run them as the
 * machine's patching agent); refusals are thrown at the call, before anything is written.
 * @module
 */
import type { ElfFile } from "@xmc/elf";
import { STT } from "@xmc/elf";
import {
  type ArgContext,
  ArgFault,
  argValue,
  type Conversion,
  convert,
  discoverSites,
  type MarkerSite,
  type ProbeValue,
  parseFormat,
  readGuestString,
  siteName,
} from "@xmc/markers";
import { conditionHolds, type PatchSite, type PatchStats, splitStores, TextPatcher } from "@xmc/text-patch";
import { Br, encodeJmp32 } from "@xmc/x86-decode";
import {
  CodeArena,
  DETOUR_RELOCATED,
  DETOUR_RSP_OFFSET,
  DETOUR_SIZE,
  detourBytes,
  SLOT_BOOSTED,
  SLOT_SIZE,
  slotBytes,
} from "./code.ts";
import { Context, frameView, type ProbeContext, type RegView, trapView } from "./context.ts";
import { ProbeError } from "./errors.ts";
import { decodeFunction, type FunctionCode, type InsnPlan, insnAt, planInsn, relocate } from "./insn.ts";
import type { ProbeCpu, ProbePort } from "./port.ts";

/** Kinds of probe. */
export type ProbeKind = "kprobe" | "kretprobe" | "djprobe";

/** Where a probe goes and what it runs. Exactly one of `symbol`, `address`, `marker`. */
export interface ProbeSpec {
  kind: ProbeKind;
  /** A function symbol, with `offset` bytes into it (default 0). */
  symbol?: string;
  offset?: number;
  /** An absolute address inside a known function. */
  address?: number;
  /** A nop5 marker site `provider:name` (kprobe or djprobe): the handler gets its decoded arguments. */
  marker?: string;
  /** A name for listings (default: kind@symbol+offset). */
  name?: string;
  /** kprobe/djprobe: called before the probed instruction runs. */
  pre?: (ctx: ProbeContext) => void;
  /** kprobe: called after the probed instruction ran (makes the probe unboosted and unoptimizable). */
  post?: (ctx: ProbeContext) => void;
  /** kretprobe: called at entry; returning false skips this instance (no return handler). */
  entry?: (ctx: ProbeContext) => boolean | undefined;
  /** kretprobe: called when the function returns. */
  ret?: (ctx: ProbeContext) => void;
  /** kretprobe: most instances alive at once (default max(10, 2 × CPUs)); more are missed. */
  maxactive?: number;
  /** kprobe: allow the boosted slot (default true). */
  boost?: boolean;
  /** Start enabled (default true). */
  enabled?: boolean;
}

/** Where a probe's site is in its life. */
export type ProbeState = "off" | "kprobe" | "optimizing" | "optimized" | "unoptimizing";

/** A registered probe. */
export interface Probe {
  readonly id: number;
  readonly name: string;
  readonly kind: ProbeKind;
  readonly address: number;
  readonly function: string;
  readonly enabled: boolean;
  readonly registered: boolean;
  /** Handler runs (kretprobe: entries seen while enabled). */
  readonly hits: number;
  /** kretprobe: returns handled. */
  readonly returns: number;
  /** kretprobe: instances alive now (entered, not yet returned). */
  readonly active: number;
  /** Hits not handled: kretprobe entries beyond `maxactive`. */
  readonly missed: number;
  /** Handler calls that threw. */
  readonly errors: number;
  /** The site's state now. */
  readonly state: ProbeState;
  /** djprobe: why the optimizer refused (the probe then works as a kprobe). */
  readonly refusal: ProbeError | undefined;
  /** The marker site, for marker probes. */
  readonly marker: MarkerSite | undefined;
}

/** What one run of management steps did. */
export interface ProbeRunResult {
  armed: number;
  disarmed: number;
  optimized: number;
  unoptimized: number;
  freed: number;
  batches: PatchStats[];
}

/** Management steps: run as the machine's patching agent. */
export type ProbeSteps = Generator<undefined | { wait: () => boolean; why: string }, ProbeRunResult, void>;

/** Options of {@link Probes}. */
export interface ProbesOptions {
  /** The program (functions from its symbol table, marker sites from its notes). */
  elf: ElfFile;
  /** Where a handler's first error goes (default: stderr). */
  onError?: (error: unknown, probe: Probe) => void;
  /** First host-call id of the detour buffers (default 0x50520000). */
  hostCallBase?: number;
  /** Cycles charged per handler call (default: the port's `probeHandlerCycles`). */
  handlerCycles?: number;
  /**
   * Targets of the indirect jumps of a function, by function name, when they are known (e.g. a
   * switch table's entries): the optimizer then checks them like direct branch targets instead
   * of refusing the function (`indirect-jump`). Every indirect jump of the function must be covered.
   */
  indirectTargets?: ReadonlyMap<string, readonly number[]>;
  /**
   * Deliberately unsafe: optimize regions that branches target (or that indirect jumps may
   * reach), to show what the optimizer's checks prevent — precise mode then reports
   * `branch-into-patch`. Never for real use.
   */
  unsafe?: { ignoreBranchTargets?: boolean };
}

interface Fn {
  readonly name: string;
  readonly start: number;
  readonly size: number;
}

/** A region an optimized probe replaces. */
interface Region {
  readonly len: number;
  readonly orig: Uint8Array;
  readonly plans: (InsnPlan & { how: "copy" })[];
}

interface Site {
  readonly addr: number;
  readonly fn: FunctionCode;
  readonly plan: InsnPlan;
  readonly orig: Uint8Array;
  readonly probes: ProbeImpl[];
  slot: number;
  slotWritten: boolean;
  /** The optimizable region, or why not. */
  region: Region | undefined;
  regionRefusal: ProbeError | undefined;
  detour: number;
  detourWritten: boolean;
  readonly hostId: number;
  armed: boolean;
  opt: "none" | "optimizing" | "optimized" | "unoptimizing";
  marker: MarkerSite | undefined;
  convs: Conversion[];
}

interface Instance {
  readonly ret: number;
  readonly probe: ProbeImpl;
  readonly data: unknown;
}

class ProbeImpl implements Probe {
  hits = 0;
  returns = 0;
  missed = 0;
  errors = 0;
  enabled: boolean;
  registered = true;
  active = 0;
  constructor(
    readonly id: number,
    readonly name: string,
    readonly kind: ProbeKind,
    readonly spec: ProbeSpec,
    readonly site: Site,
    readonly maxactive: number,
    readonly owner: Probes,
  ) {
    this.enabled = spec.enabled ?? true;
  }
  get address(): number {
    return this.site.addr;
  }
  get function(): string {
    return this.site.fn.name;
  }
  get state(): ProbeState {
    if (!this.site.armed) return "off";
    return this.site.opt === "none" ? "kprobe" : this.site.opt;
  }
  get refusal(): ProbeError | undefined {
    if (this.kind !== "djprobe") return undefined;
    if (this.spec.post)
      return new ProbeError(
        "post-handler",
        this.site.addr,
        "a post handler needs the trap after the instruction",
      );
    return this.site.regionRefusal ?? this.owner.blocker(this.site);
  }
  get marker(): MarkerSite | undefined {
    return this.site.marker;
  }
}

const INT3 = 0xcc;

/** The probes of one program on one machine. */
export class Probes {
  readonly port: ProbePort;
  private readonly fns: Fn[];
  private readonly byName = new Map<string, Fn>();
  private readonly markerSites: MarkerSite[];
  private readonly sites = new Map<number, Site>();
  /** The INT3 after each slot's first copy → its site (kept until the slot is freed). */
  private readonly slotTraps = new Map<number, Site>();
  private readonly all: ProbeImpl[] = [];
  private readonly patcher: TextPatcher;
  private readonly arena: CodeArena;
  private readonly opts: ProbesOptions;
  private readonly handlerCycles: number;
  private nextId = 1;
  private nextHost: number;
  private trampoline = 0;
  private trampolineWritten = false;
  /** kretprobe instances by the address of the stack slot holding the return address (LIFO per slot). */
  private readonly instances = new Map<number, Instance[]>();
  /** Addresses whose breakpoint we removed (a late trap there is re-executed). */
  private readonly removed = new Set<number>();
  /** Code waiting for quiescence before it is freed. */
  private readonly toFree: { start: number; len: number }[] = [];
  /** Totals over every probe. */
  readonly totals = { traps: 0, hostCalls: 0, emulated: 0, slotRuns: 0, boosted: 0, retTraps: 0, detours: 0 };

  constructor(port: ProbePort, options: ProbesOptions) {
    this.port = port;
    this.opts = options;
    this.handlerCycles = options.handlerCycles ?? port.probeHandlerCycles;
    this.nextHost = options.hostCallBase ?? 0x50520000;
    const fns: Fn[] = [];
    for (const s of options.elf.symbols()) {
      if (s.type !== STT.FUNC || s.value === 0n || s.size === 0) continue;
      const f = { name: s.name, start: Number(s.value), size: Number(s.size) };
      fns.push(f);
      if (!this.byName.has(s.name)) this.byName.set(s.name, f);
    }
    fns.sort((a, b) => a.start - b.start);
    this.fns = fns;
    this.markerSites = discoverSites(options.elf);
    this.patcher = new TextPatcher(port, { owner: "probes" });
    this.arena = new CodeArena((near, size) => port.allocExec(near, size));
    port.claimInt3((trap) => this.onTrap(trap.address, trap.cpu));
  }

  /** Every registered probe (registration order). */
  list(): Probe[] {
    return this.all.filter((p) => p.registered);
  }

  // ---- registration --------------------------------------------------------------------------

  /**
   * Register a probe. Checks everything now — throws {@link ProbeError} naming the rule, with
   * nothing written — and returns the probe and the steps that arm it (and, for a djprobe the
   * optimizer accepts, optimize it).
   */
  register(spec: ProbeSpec): { probe: Probe; steps: ProbeSteps } {
    const { addr, fn, marker } = this.resolve(spec);
    if (spec.kind === "kretprobe" && addr !== fn.start)
      throw new ProbeError("kretprobe-entry", addr, "a kretprobe goes at a function's first instruction");
    const site = this.sites.get(addr) ?? this.newSite(addr, fn, marker);
    const name =
      spec.name ??
      (marker
        ? `${spec.kind}@${siteName(marker)}`
        : `${spec.kind}@${fn.name}+0x${(addr - fn.start).toString(16)}`);
    const maxactive = spec.maxactive ?? Math.max(10, 2 * this.port.cpus);
    const p = new ProbeImpl(this.nextId++, name, spec.kind, spec, site, maxactive, this);
    if (!this.sites.has(addr)) this.sites.set(addr, site);
    site.probes.push(p);
    this.all.push(p);
    return { probe: p, steps: this.reconcile() };
  }

  /** Unregister `probe` (its handlers stop at once) and return the steps that remove its text. */
  unregister(probe: Probe): ProbeSteps {
    const p = this.own(probe);
    p.registered = false;
    p.enabled = false;
    const s = p.site;
    s.probes.splice(s.probes.indexOf(p), 1);
    return this.reconcile();
  }

  /** Enable `probe` and return the steps that arm (and optimize) its site. */
  enable(probe: Probe): ProbeSteps {
    this.own(probe).enabled = true;
    return this.reconcile();
  }

  /** Disable `probe` (its handlers stop at once) and return the steps that disarm its site if no enabled probe is left. */
  disable(probe: Probe): ProbeSteps {
    this.own(probe).enabled = false;
    return this.reconcile();
  }

  private own(probe: Probe): ProbeImpl {
    const p = this.all.find((x) => x === probe);
    if (!p?.registered)
      throw new ProbeError("not-registered", probe.address, `${probe.name} is not registered`);
    return p;
  }

  /** Function containing `addr`, or undefined. */
  private fnAt(addr: number): Fn | undefined {
    let lo = 0;
    let hi = this.fns.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.fns[mid]!.start <= addr) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    for (let i = best; i >= 0 && i > best - 8; i--) {
      const f = this.fns[i]!;
      if (addr >= f.start && addr < f.start + f.size) return f;
    }
    return undefined;
  }

  private resolve(spec: ProbeSpec): { addr: number; fn: FunctionCode; marker: MarkerSite | undefined } {
    let addr: number;
    let marker: MarkerSite | undefined;
    if (spec.marker !== undefined) {
      marker = this.markerSites.find(
        (s) => siteName(s) === spec.marker && (s.kind === "nop5" || s.kind === "fentry"),
      );
      if (!marker) throw new ProbeError("marker", -1, `no nop5 marker site named ${spec.marker}`);
      if (spec.kind === "kretprobe")
        throw new ProbeError("marker", marker.address, "a marker site takes kprobes and djprobes");
      addr = marker.address;
    } else if (spec.symbol !== undefined) {
      const f = this.byName.get(spec.symbol);
      if (!f) throw new ProbeError("no-symbol", -1, `no function symbol ${spec.symbol}`);
      const off = spec.offset ?? 0;
      if (!Number.isInteger(off) || off < 0 || off >= f.size)
        throw new ProbeError(
          "boundary",
          f.start + off,
          `offset ${off} is outside ${spec.symbol} (${f.size} bytes)`,
        );
      addr = f.start + off;
    } else if (spec.address !== undefined) addr = spec.address;
    else throw new ProbeError("no-symbol", -1, "give a symbol, an address or a marker");
    const f = this.fnAt(addr);
    if (!f) throw new ProbeError("no-symbol", addr, "the address is in no known function");
    const fn = this.original(f);
    if (fn.error) throw new ProbeError("undecodable", addr, `${f.name}: ${fn.error}`);
    if (insnAt(fn, addr) < 0)
      throw new ProbeError(
        "boundary",
        addr,
        `not an instruction boundary of ${f.name} (decoded from its symbol)`,
      );
    for (const s of this.sites.values())
      if (s.region && (s.opt !== "none" || this.wantOpt(s)) && addr > s.addr && addr < s.addr + s.region.len)
        throw new ProbeError(
          "in-region",
          addr,
          `inside the region the optimized probe at 0x${s.addr.toString(16)} replaces with its jump`,
        );
    return { addr, fn, marker };
  }

  /** The function decoded from its original text (this package's breakpoints and jumps put back). */
  private original(f: Fn): FunctionCode {
    const bytes = this.port.read(f.start, f.size).slice();
    const put = (at: number, orig: Uint8Array) => {
      for (let i = 0; i < orig.length; i++) {
        const o = at - f.start + i;
        if (o >= 0 && o < bytes.length) bytes[o] = orig[i]!;
      }
    };
    for (const s of this.sites.values()) {
      if (s.armed) put(s.addr, s.orig);
      if (s.region && s.opt !== "none") put(s.addr, s.region.orig.subarray(0, 5));
    }
    return decodeFunction(f.name, f.start, bytes);
  }

  private newSite(addr: number, fn: FunctionCode, marker: MarkerSite | undefined): Site {
    const i = insnAt(fn, addr);
    const ins = fn.insns[i]!;
    const orig = fn.bytes.slice(addr - fn.start, addr - fn.start + ins.len);
    const plan = planInsn(orig, addr);
    let slot = 0;
    if (plan.how === "copy") {
      slot = this.arena.take(addr, SLOT_SIZE);
      // Check the relocation now (a refusal writes nothing).
      relocate(plan, addr, slot);
      relocate(plan, addr, slot + SLOT_BOOSTED);
    }
    const site: Site = {
      addr,
      fn,
      plan,
      orig,
      probes: [],
      slot,
      slotWritten: false,
      region: undefined,
      regionRefusal: undefined,
      detour: 0,
      detourWritten: false,
      hostId: this.nextHost++,
      armed: false,
      opt: "none",
      marker,
      convs: marker && !marker.problem ? parseFormat(marker.format) : [],
    };
    try {
      site.region = this.analyzeRegion(site);
      site.detour = this.arena.take(addr, DETOUR_SIZE);
      relocatedRegion(site.region, addr, site.detour + DETOUR_RELOCATED);
    } catch (e) {
      if (!(e instanceof ProbeError)) throw e;
      site.region = undefined;
      site.regionRefusal = e;
    }
    const s = site;
    this.port.onHostCall(site.hostId, (cpu) => this.onDetour(s, cpu));
    return site;
  }

  /**
   * The optimizer's checks (Linux's `can_optimize` and `copy_optimized_instructions`): the
   * instructions covering 5 bytes from the site, all relocatable, inside the function, no branch
   * of the function into bytes 1..L-1, no indirect jump in the function (when the region has
   * more than one instruction), no other probe inside the region.
   */
  private analyzeRegion(site: Site): Region {
    const fn = site.fn;
    const a = site.addr;
    if (a + 5 > fn.end)
      throw new ProbeError(
        "function-end",
        a,
        `the 5-byte jump would run past the end of ${fn.name} (0x${fn.end.toString(16)})`,
      );
    let i = insnAt(fn, a);
    let len = 0;
    const plans: (InsnPlan & { how: "copy" })[] = [];
    while (len < 5) {
      const ins = fn.insns[i++];
      if (!ins) throw new ProbeError("function-end", a, `the region runs past the end of ${fn.name}`);
      let plan: InsnPlan;
      try {
        plan = planInsn(fn.bytes.slice(ins.addr - fn.start, ins.addr - fn.start + ins.len), ins.addr);
      } catch (e) {
        if (!(e instanceof ProbeError)) throw e;
        throw new ProbeError(
          "not-relocatable",
          a,
          `the instruction at 0x${ins.addr.toString(16)} cannot run relocated (${e.rule})`,
        );
      }
      if (plan.how !== "copy")
        throw new ProbeError(
          "not-relocatable",
          a,
          `the instruction at 0x${ins.addr.toString(16)} is a branch (it would have to be emulated)`,
        );
      plans.push(plan);
      len += ins.len;
    }
    if (a + len > fn.end)
      throw new ProbeError("function-end", a, `the region runs past the end of ${fn.name}`);
    if (plans.length > 1 && !this.opts.unsafe?.ignoreBranchTargets) {
      for (const ins of fn.insns) {
        if (ins.target > a && ins.target < a + len)
          throw new ProbeError(
            "branch-into-region",
            a,
            `the branch at 0x${ins.addr.toString(16)} targets 0x${ins.target.toString(16)}, inside the region 0x${a.toString(16)}+${len}`,
          );
        if (ins.branch !== Br.JmpInd) continue;
        const known = this.opts.indirectTargets?.get(fn.name);
        if (!known)
          throw new ProbeError(
            "indirect-jump",
            a,
            `${fn.name} has an indirect jump at 0x${ins.addr.toString(16)} (a switch table?) whose targets are unknown`,
          );
        for (const t of known)
          if (t > a && t < a + len)
            throw new ProbeError(
              "branch-into-region",
              a,
              `the indirect jump at 0x${ins.addr.toString(16)} may go to 0x${t.toString(16)}, inside the region 0x${a.toString(16)}+${len}`,
            );
      }
    }
    return { len, orig: fn.bytes.slice(a - fn.start, a - fn.start + len), plans };
  }

  // ---- trap and host-call handlers -----------------------------------------------------------

  private report(p: ProbeImpl, e: unknown): void {
    p.errors++;
    if (p.errors > 1) return;
    if (this.opts.onError) this.opts.onError(e, p);
    else
      process.stderr.write(
        `xmc: handler of ${p.name} threw: ${(e as Error)?.message ?? String(e)}; further errors are counted, not shown\n`,
      );
  }

  private call(
    p: ProbeImpl,
    f: ((ctx: ProbeContext) => unknown) | undefined,
    ctx: Context,
    cpu: ProbeCpu,
  ): unknown {
    if (!f) return undefined;
    cpu.charge(this.handlerCycles);
    try {
      return f(ctx);
    } catch (e) {
      this.report(p, e);
      return undefined;
    }
  }

  private markerArgs(site: Site, view: RegView): ProbeValue[] {
    const m = site.marker;
    if (!m || m.problem) return [];
    const port = this.port;
    const ctx: ArgContext = {
      reg: (r) => view.reg(r),
      nextRip: m.address + m.length,
      read: (a, n) => port.readMem(a, n),
      symbol: (name) => this.byName.get(name)?.start,
    };
    return m.args.map((a, i) => {
      let raw = 0n;
      try {
        raw = argValue(a, ctx);
      } catch (e) {
        if (!(e instanceof ArgFault)) throw e;
      }
      return convert(site.convs[i] ?? "lu", raw, (x) => readGuestString((y, n) => port.readMem(y, n), x));
    });
  }

  /** Run the site's enabled probes' pre handlers (kretprobe: the entry logic). */
  private fire(site: Site, cpu: ProbeCpu, view: RegView): void {
    let args: ProbeValue[] | undefined;
    for (const p of site.probes) {
      if (!p.enabled) continue;
      p.hits++;
      const ctx = new Context(p, site.addr, cpu, view, this.port);
      if (site.marker) ctx.args = args ??= this.markerArgs(site, view);
      if (p.kind === "kretprobe") this.enterKret(p, ctx, cpu, view);
      else this.call(p, p.spec.pre, ctx, cpu);
    }
  }

  private firePost(site: Site, cpu: ProbeCpu): void {
    const view = trapView(cpu);
    for (const p of site.probes) {
      if (!p.enabled || !p.spec.post) continue;
      this.call(p, p.spec.post, new Context(p, site.addr, cpu, view, this.port), cpu);
    }
  }

  private enterKret(p: ProbeImpl, ctx: Context, cpu: ProbeCpu, view: RegView): void {
    if (p.active >= p.maxactive) {
      p.missed++;
      return;
    }
    if (p.spec.entry && this.call(p, p.spec.entry, ctx, cpu) === false) return;
    const rsp = Number(view.reg(4));
    const b = this.port.readMem(rsp, 8);
    const dv = new DataView(b.buffer, b.byteOffset, 8);
    const ret = dv.getUint32(4, true) * 4294967296 + dv.getUint32(0, true);
    const t = new Uint8Array(8);
    new DataView(t.buffer).setBigUint64(0, BigInt(this.trampoline), true);
    this.port.writeMem(rsp, t);
    p.active++;
    let l = this.instances.get(rsp);
    if (!l) {
      l = [];
      this.instances.set(rsp, l);
    }
    l.push({ ret, probe: p, data: ctx.data });
  }

  private onTrap(addr: number, cpu: ProbeCpu): "handled" | "declined" | "retry" {
    const site = this.sites.get(addr);
    if (site) {
      this.totals.traps++;
      const view = trapView(cpu);
      this.fire(site, cpu, view);
      if (site.opt !== "none") {
        // The jump is being written or removed: run the relocated region in the detour.
        cpu.rip = site.detour + DETOUR_RELOCATED;
        this.totals.detours++;
        return "handled";
      }
      const plan = site.plan;
      if (plan.how === "emulate") {
        emulate(plan, addr, cpu, this.port);
        this.totals.emulated++;
        this.firePost(site, cpu);
        return "handled";
      }
      const post =
        site.probes.some((p) => p.enabled && p.spec.post) || site.probes.some((p) => p.spec.boost === false);
      this.totals.slotRuns++;
      if (!post) this.totals.boosted++;
      cpu.rip = site.slot + (post ? 0 : SLOT_BOOSTED);
      return "handled";
    }
    const slotSite = this.slotTraps.get(addr);
    if (slotSite) {
      this.firePost(slotSite, cpu);
      cpu.rip = slotSite.addr + slotSite.orig.length;
      return "handled";
    }
    if (addr === this.trampoline && this.trampoline !== 0) return this.onReturn(cpu);
    // A breakpoint of ours removed while this CPU was trapping: re-execute the original.
    try {
      if (this.port.read(addr, 1)[0] !== INT3 && this.removed.has(addr)) return "retry";
    } catch {
      /* unmapped: not ours */
    }
    return "declined";
  }

  private onReturn(cpu: ProbeCpu): "handled" | "declined" {
    const slotAddr = Number(cpu.reg64n(4)) - 8;
    const l = this.instances.get(slotAddr);
    const inst = l?.pop();
    if (!inst) return "declined";
    if (l!.length === 0) this.instances.delete(slotAddr);
    this.totals.retTraps++;
    const p = inst.probe;
    p.active--;
    if (p.registered && p.enabled) {
      p.returns++;
      const ctx = new Context(p, p.site.addr, cpu, trapView(cpu), this.port);
      ctx.data = inst.data;
      this.call(p, p.spec.ret, ctx, cpu);
    }
    cpu.rip = inst.ret;
    return "handled";
  }

  private onDetour(site: Site, cpu: ProbeCpu): void {
    this.totals.hostCalls++;
    this.fire(site, cpu, frameView(this.port, cpu, DETOUR_RSP_OFFSET));
  }

  // ---- the text ------------------------------------------------------------------------------

  private wantArmed(s: Site): boolean {
    return s.probes.some((p) => p.enabled);
  }

  private wantOpt(s: Site): boolean {
    const on = s.probes.filter((p) => p.enabled);
    return (
      on.length > 0 &&
      s.region !== undefined &&
      on.every((p) => p.kind === "djprobe" && !p.spec.post) &&
      this.blocker(s) === undefined
    );
  }

  /** Another probe inside the region `s` would replace (its optimization must wait). */
  blocker(s: Site): ProbeError | undefined {
    if (!s.region) return undefined;
    for (const o of this.sites.values())
      if (o.addr > s.addr && o.addr < s.addr + s.region.len)
        return new ProbeError(
          "probe-in-region",
          s.addr,
          `the probe at 0x${o.addr.toString(16)} is inside the region`,
        );
    return undefined;
  }

  private *sync(): Generator<{ wait: () => boolean; why: string }, void, void> {
    const h = this.port.syncAll();
    yield { wait: () => h.done(), why: "sync_core acknowledgements" };
  }

  private *lock(): Generator<undefined | { wait: () => boolean; why: string }, void, void> {
    for (;;) {
      yield { wait: () => this.port.lock.holder === undefined, why: "patch writer lock" };
      if (this.port.lock.tryAcquire("probes")) return;
    }
  }

  private *store(addr: number, bytes: Uint8Array): Generator<undefined, void, void> {
    const parts: [number, number][] = [];
    splitStores(addr, bytes.length, 8, (off, size) => parts.push([off, size]));
    for (const [off, size] of parts) {
      this.port.write(addr + off, bytes.subarray(off, off + size));
      yield;
    }
  }

  private *quiesce(
    ranges: { start: number; len: number }[],
    why: string,
  ): Generator<{ wait: () => boolean; why: string }, void, void> {
    // The stack scan is costly: look every 16th time the agent is offered a step.
    let tick = 0;
    for (;;) {
      yield { wait: () => (++tick & 15) === 0 && this.port.quiescent(ranges), why };
      if (this.port.quiescent(ranges)) return;
    }
  }

  /** Make the text agree with the probes' wishes. */
  private *reconcile(): ProbeSteps {
    const r: ProbeRunResult = { armed: 0, disarmed: 0, optimized: 0, unoptimized: 0, freed: 0, batches: [] };
    yield { wait: () => this.port.lock.holder === undefined, why: "patch writer lock" };
    const all = [...this.sites.values()];
    // 1. Unoptimize: INT3 over the jump's first byte, sync, the original tail, sync.
    const unopt = all.filter((s) => s.opt === "optimized" && !this.wantOpt(s));
    if (unopt.length > 0) {
      yield* this.lock();
      try {
        for (const s of unopt) {
          s.opt = "unoptimizing";
          this.port.write(s.addr, Uint8Array.of(INT3));
          yield;
        }
        yield* this.sync();
        for (const s of unopt) yield* this.store(s.addr + 1, s.region!.orig.subarray(1, 5));
        yield* this.sync();
        for (const s of unopt) {
          this.port.endPatched(s.addr, s.region!.len);
          s.opt = "none";
          r.unoptimized++;
        }
      } finally {
        this.port.lock.release("probes");
      }
    }
    // 2. Code first (slots, detours, the trampoline), then the breakpoints that lead to it.
    const arm = all.filter((s) => !s.armed && this.wantArmed(s));
    const disarm = all.filter((s) => s.armed && !this.wantArmed(s));
    const optimize = all.filter((s) => this.wantOpt(s) && s.opt === "none");
    let wroteCode = false;
    if (this.all.some((p) => p.kind === "kretprobe" && p.registered) && !this.trampolineWritten) {
      if (this.trampoline === 0) this.trampoline = this.arena.take(this.fns[0]?.start ?? 0x400000, 16);
      this.port.write(this.trampoline, new Uint8Array(16).fill(INT3));
      this.trampolineWritten = true;
      wroteCode = true;
      yield;
    }
    for (const s of arm) {
      if (s.plan.how === "copy" && !s.slotWritten) {
        const c0 = relocate(s.plan, s.addr, s.slot);
        const c1 = relocate(s.plan, s.addr, s.slot + SLOT_BOOSTED);
        this.port.write(s.slot, slotBytes(s.slot, s.addr, c0, c1));
        this.slotTraps.set(s.slot + c0.length, s);
        s.slotWritten = true;
        wroteCode = true;
        yield;
      }
    }
    for (const s of optimize) {
      if (!s.detourWritten) {
        const reloc = relocatedRegion(s.region!, s.addr, s.detour + DETOUR_RELOCATED);
        this.port.write(s.detour, detourBytes(s.detour, s.addr, s.region!.len, s.hostId, reloc));
        s.detourWritten = true;
        wroteCode = true;
        yield;
      }
    }
    if (wroteCode && arm.length === 0) yield* this.sync();
    // 3. One INT3 batch: arm and disarm (text-patch's protocol; its syncs serialize the new code too).
    const batch: PatchSite[] = [];
    for (const s of arm) {
      const bp = s.orig.slice();
      bp[0] = INT3;
      // `from` is the site itself: its boundary was checked on the original text (other
      // breakpoints of ours in the function would derail decoding the current text).
      batch.push({ addr: s.addr, from: s.addr, old: s.orig, new: bp });
    }
    for (const s of disarm) {
      const bp = s.orig.slice();
      bp[0] = INT3;
      batch.push({ addr: s.addr, from: s.addr, old: bp, new: s.orig });
      this.removed.add(s.addr);
    }
    if (batch.length > 0) {
      batch.sort((a, b) => a.addr - b.addr);
      for (let i = 0; i < batch.length; i += this.patcher.maxBatch) {
        if (i > 0) yield { wait: () => this.port.lock.holder === undefined, why: "patch writer lock" };
        for (const s of arm) s.armed = true;
        r.batches.push(yield* this.patcher.patch(batch.slice(i, i + this.patcher.maxBatch)));
      }
      r.armed += arm.length;
      for (const s of disarm) {
        s.armed = false;
        r.disarmed++;
      }
    }
    // 4. Optimize: quiescence of the region and the slot, the jump's tail, sync, its first byte, sync.
    const opt = optimize.filter((s) => s.armed && this.wantOpt(s) && s.opt === "none");
    if (opt.length > 0) {
      yield* this.lock();
      try {
        for (const s of opt) s.opt = "optimizing";
        const ranges: { start: number; len: number }[] = [];
        for (const s of opt) {
          if (s.region!.len > 1) ranges.push({ start: s.addr + 1, len: s.region!.len - 1 });
          if (s.slot) ranges.push({ start: s.slot, len: SLOT_SIZE });
        }
        yield* this.quiesce(ranges, "optprobe region quiescence");
        for (const s of opt) {
          this.port.declarePatched(s.addr, s.region!.len);
          yield* this.store(s.addr + 1, encodeJmp32(s.addr, s.detour).subarray(1));
        }
        yield* this.sync();
        for (const s of opt) {
          this.port.write(s.addr, Uint8Array.of(0xe9));
          yield;
        }
        yield* this.sync();
        for (const s of opt) {
          s.opt = "optimized";
          r.optimized++;
        }
      } finally {
        this.port.lock.release("probes");
      }
    }
    // 5. Sites without probes: free their code once no thread can be in it.
    for (const s of all) {
      if (s.probes.length > 0 || s.armed) continue;
      this.sites.delete(s.addr);
      if (s.slotWritten) this.toFree.push({ start: s.slot, len: SLOT_SIZE });
      if (s.detourWritten) this.toFree.push({ start: s.detour, len: DETOUR_SIZE });
    }
    if (this.toFree.length > 0) {
      const ranges = this.toFree.splice(0);
      yield* this.quiesce(ranges, "out-of-line code quiescence");
      for (const f of ranges) {
        this.port.freeExec(f.start, f.len);
        for (const [k, s] of this.slotTraps) if (s.slot === f.start) this.slotTraps.delete(k);
        r.freed++;
      }
    }
    return r;
  }
}

/** The region's instructions relocated to `at` (each RIP-relative displacement fixed). */
function relocatedRegion(region: Region, site: number, at: number): Uint8Array {
  const out = new Uint8Array(region.len);
  let o = 0;
  for (const p of region.plans) {
    out.set(relocate(p, site + o, at + o), o);
    o += p.len;
  }
  return out;
}

function u64(port: ProbePort, addr: number): number {
  const b = port.readMem(addr, 8);
  const v = new DataView(b.buffer, b.byteOffset, 8);
  return v.getUint32(4, true) * 4294967296 + v.getUint32(0, true);
}

/** Emulate a displaced branch on the trapped CPU (RIP is set to where it goes). */
function emulate(p: InsnPlan & { how: "emulate" }, site: number, cpu: ProbeCpu, port: ProbePort): void {
  const next = site + p.len;
  const indirect = (): number => {
    if (p.reg >= 0) return Number(cpu.reg64n(p.reg));
    const m = p.mem!;
    let a = m.disp;
    if (m.base >= 0) a += cpu.reg64n(m.base);
    if (m.index >= 0) a += cpu.reg64n(m.index) * BigInt(m.scale);
    return u64(port, Number(BigInt.asUintN(64, a)));
  };
  switch (p.kind) {
    case "jmp":
      cpu.rip = p.target;
      return;
    case "jcc":
      cpu.rip = conditionHolds(p.cc, cpu.flags) ? p.target : next;
      return;
    case "call":
      cpu.push64(next);
      cpu.rip = p.target;
      return;
    case "ret": {
      const to = cpu.pop64();
      if (p.pop) cpu.setReg64n(4, BigInt.asUintN(64, cpu.reg64n(4) + BigInt(p.pop)));
      cpu.rip = to;
      return;
    }
    case "loop": {
      const bits = p.count32 ? 32 : 64;
      const cx = BigInt.asUintN(bits, cpu.reg64n(1) - 1n);
      // With a 32-bit address size only ECX counts (the upper half is left alone).
      cpu.setReg64n(1, p.count32 ? (cpu.reg64n(1) & ~0xffffffffn) | cx : cx);
      const zf = (cpu.flags & 0x40) !== 0;
      const go = cx !== 0n && (p.cc === 2 || (p.cc === 1 ? zf : !zf));
      cpu.rip = go ? p.target : next;
      return;
    }
    case "jrcxz": {
      const cx = p.count32 ? cpu.reg64n(1) & 0xffffffffn : cpu.reg64n(1);
      cpu.rip = cx === 0n ? p.target : next;
      return;
    }
    case "jmp-ind":
      cpu.rip = indirect();
      return;
    case "call-ind": {
      const to = indirect();
      cpu.push64(next);
      cpu.rip = to;
      return;
    }
  }
}
