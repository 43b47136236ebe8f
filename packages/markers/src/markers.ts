/**
 * Probe management: connect probes to markers by name or glob (with a format check), arm and
 * disarm markers (reference-counted; one text-patch batch per arming), and deliver each hit to
 * the connected probes with the marker's decoded arguments, the CPU and the modeled time.
 *
 * Arming changes counts at once and returns the steps that make the text agree with them
 * (run by the machine's patching agent, interleaved with the CPUs): 5-byte sites become
 * `jmp stub` (stub.ts), 1-byte USDT and patchable-entry NOPs become INT3, call markers get their
 * flag word set, USDT semaphores are incremented. Disarming reverses that through the same
 * protocol and frees each stub only once no CPU can be inside it (quiescence).
 * @module
 */
import {
  type PatchSite,
  type PatchStats,
  type ProtocolName,
  TextPatcher,
  UNSAFE_PROTOCOLS,
} from "@xmc/text-patch";
import { encodeJmp32 } from "@xmc/x86-decode";
import { type ArgContext, ArgFault, argValue, littleEndian, readGuestString } from "./args.ts";
import { MarkerError } from "./errors.ts";
import { type Conversion, convert, formatsAgree, type ProbeValue, parseFormat } from "./format.ts";
import type { MarkerCpu, MarkerPort } from "./port.ts";
import { type MarkerSite, siteName } from "./sites.ts";
import { STUB_RSP_OFFSET, STUB_SIZE, StubArena, stubBytes } from "./stub.ts";

/** What a probe receives for one hit. */
export interface MarkerEvent {
  /** The site that fired. */
  readonly site: MarkerSite;
  /** `provider:name`. */
  readonly marker: string;
  /** The arguments, converted per the marker's format (see `ProbeValue`). */
  readonly args: readonly ProbeValue[];
  /** The CPU that hit the marker. */
  readonly cpu: number;
  /** Its modeled time (cycles). */
  readonly time: number;
}

/** A probe: called for every hit of an armed marker it is connected to. */
export type Probe = (event: MarkerEvent) => void;

/** A probe's connection; `disconnect()` stops the calls at once. */
export interface Connection {
  readonly pattern: string;
  readonly format: string;
  /** The sites it is connected to. */
  readonly sites: readonly MarkerSite[];
  /** Calls made to the probe. */
  readonly calls: number;
  /** Calls that threw (the first error was reported). */
  readonly errors: number;
  readonly connected: boolean;
  disconnect(): void;
}

/** The result of an arming or disarming run. */
export interface ArmResult {
  /** Sites whose text or flag was turned on / off by this run. */
  enabled: number;
  disabled: number;
  /** Statistics of each text-patch batch this run made. */
  batches: PatchStats[];
  /** Stubs freed after quiescence. */
  stubsFreed: number;
}

/** Options of {@link Markers}. */
export interface MarkersOptions {
  /** Symbol addresses, for memory operands that name a symbol (`counter(%rip)`). */
  symbols?: ReadonlyMap<string, number>;
  /** Where a probe's first error goes (default: stderr). Later errors are only counted. */
  onProbeError?: (error: unknown, connection: Connection, event: MarkerEvent) => void;
  /** Protocol for the text changes (default `int3-batch`). */
  protocol?: ProtocolName;
  /** Needed for the unsafe protocols (`naive`, `jmp2`, …): for demonstrating what they break. */
  unsafe?: boolean;
  /** First host-call id (one per site, default 0x584d0000). */
  hostCallBase?: number;
  /** Longest string read for `%s` (default 4096 bytes). */
  maxString?: number;
  /**
   * Modeled cycles charged to the CPU for each probe call (the probe's body; COST-MODEL.md
   * "probe handler body"). Default: the port's `probeHandlerCycles`, else 0.
   */
  handlerCycles?: number;
}

const NOP5 = Uint8Array.of(0x0f, 0x1f, 0x44, 0x00, 0x00);
const JMP2 = Uint8Array.of(0xeb, 0x03, 0x0f, 0x1f, 0x00);
const NOP1 = Uint8Array.of(0x90);
const INT3 = Uint8Array.of(0xcc);

/** The bytes a site holds when disabled. */
function offBytes(s: MarkerSite): Uint8Array | undefined {
  switch (s.kind) {
    case "nop5":
    case "fentry":
      return NOP5;
    case "jmp2":
      return JMP2;
    case "usdt":
    case "patchable":
      return NOP1;
    default:
      return undefined;
  }
}

/** Glob (`*`, `?`) over `provider:name`; a pattern without `:` matches names of any provider. */
export function globToRegExp(pattern: string): RegExp {
  if (pattern === "" || /[^\w:*?.@-]/.test(pattern))
    throw new MarkerError(
      "bad-pattern",
      `marker pattern "${pattern}": use provider:name with letters, digits, _ . @ - and the wildcards * ?`,
    );
  const full = pattern.includes(":") ? pattern : `*:${pattern}`;
  const re = full.replace(/[.]/g, "\\.").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${re}$`);
}

interface SiteState {
  readonly site: MarkerSite;
  readonly id: number;
  readonly convs: Conversion[];
  /** Arming count (what the runs so far asked for). */
  count: number;
  /** Arming count once every arm/disarm run handed out so far has run. */
  planned: number;
  /** What the text / flag is now (or is being made by a run in progress). */
  on: boolean;
  /** The stub of a 5-byte site while it is (or was last) enabled. */
  stub: number;
  conns: ConnectionImpl[];
  hits: number;
  argFaults: number;
}

class ConnectionImpl implements Connection {
  calls = 0;
  errors = 0;
  connected = true;
  constructor(
    readonly pattern: string,
    readonly format: string,
    readonly sites: readonly MarkerSite[],
    readonly probe: Probe,
    private readonly drop: (c: ConnectionImpl) => void,
  ) {}
  disconnect(): void {
    if (!this.connected)
      throw new MarkerError("disconnected", `probe on ${this.pattern} is already disconnected`);
    this.connected = false;
    this.drop(this);
  }
}

/** The markers of one program on one machine. */
export class Markers {
  readonly port: MarkerPort;
  readonly sites: readonly MarkerSite[];
  private readonly states: SiteState[];
  private readonly byAddress = new Map<number, SiteState>();
  private readonly patcher: TextPatcher;
  private readonly arena: StubArena;
  private readonly opts: MarkersOptions;
  private readonly base: number;
  /** Host calls and breakpoints delivered, and probe errors, over all sites. */
  readonly totals = { hits: 0, probeCalls: 0, probeErrors: 0, argFaults: 0 };

  constructor(port: MarkerPort, sites: readonly MarkerSite[], options: MarkersOptions = {}) {
    this.port = port;
    this.sites = sites;
    this.opts = options;
    this.base = options.hostCallBase ?? 0x584d0000;
    const protocol = options.protocol ?? "int3-batch";
    if (UNSAFE_PROTOCOLS.includes(protocol) && options.unsafe !== true)
      throw new MarkerError(
        "protocol",
        `the ${protocol} protocol can make other CPUs execute torn bytes; pass unsafe: true to use it anyway`,
      );
    if (protocol === "early")
      throw new MarkerError(
        "protocol",
        "early poke needs every other CPU to be quiet; markers patch running programs",
      );
    this.patcher = new TextPatcher(port, { owner: "markers" });
    this.arena = new StubArena((near, size) => port.allocExec(near, size));
    this.states = sites.map((site, i) => ({
      site,
      id: this.base + i,
      convs: site.problem ? [] : parseFormat(site.format),
      count: 0,
      planned: 0,
      on: false,
      stub: 0,
      conns: [],
      hits: 0,
      argFaults: 0,
    }));
    for (const st of this.states) {
      if (st.site.kind !== "call") this.byAddress.set(st.site.address, st);
      const s = st;
      port.onHostCall(st.id, (cpu) => this.fire(s, cpu, s.site.kind !== "call"));
    }
    port.claimInt3((trap) => {
      const st = this.byAddress.get(trap.address);
      if (!st?.on || st.site.length !== 1) return "declined";
      this.fire(st, trap.cpu, false);
      trap.cpu.rip = trap.address + 1; // step over the 1-byte NOP the INT3 replaced
      return "handled";
    });
  }

  /** Sites whose `provider:name` matches `pattern` (throws `no-match` when none). */
  find(pattern: string): MarkerSite[] {
    const re = globToRegExp(pattern);
    const out = this.sites.filter((s) => re.test(siteName(s)));
    if (out.length === 0) throw new MarkerError("no-match", `no marker matches "${pattern}"`);
    return out;
  }

  /** The sites matching any of `patterns` (each must match something). */
  private statesOf(patterns: string | readonly string[]): SiteState[] {
    const out = new Set<SiteState>();
    for (const pattern of typeof patterns === "string" ? [patterns] : patterns) {
      const re = globToRegExp(pattern);
      const hit = this.states.filter((s) => re.test(siteName(s.site)));
      if (hit.length === 0) throw new MarkerError("no-match", `no marker matches "${pattern}"`);
      for (const h of hit) out.add(h);
    }
    return [...out];
  }

  /**
   * Connect `probe` to every marker matching `pattern`, expecting `format`. Throws `format`
   * naming both formats when a marker's differs (USDT and function-entry sites accept any
   * conversions of the right widths), `bad-format` when a matched site's own description is
   * broken, `no-match` when nothing matches. Connecting does not arm.
   */
  connect(pattern: string, format: string, probe: Probe): Connection {
    const states = this.statesOf(pattern);
    parseFormat(format);
    for (const st of states) {
      if (st.site.problem)
        throw new MarkerError("bad-format", `marker ${siteName(st.site)}: ${st.site.problem}`);
      if (!formatsAgree(format, st.site.format, st.site.derivedFormat))
        throw new MarkerError(
          "format",
          `probe format "${format}" does not match marker ${siteName(st.site)} format "${st.site.format}"`,
        );
    }
    const conn = new ConnectionImpl(
      pattern,
      format,
      states.map((s) => s.site),
      probe,
      (c) => {
        // Copy on write: a hit in progress keeps iterating the array it started with.
        for (const st of states) st.conns = st.conns.filter((x) => x !== c);
      },
    );
    for (const st of states) st.conns = [...st.conns, conn];
    return conn;
  }

  /** Arming count of each site matching `pattern`. */
  armed(pattern: string): number[] {
    return this.statesOf(pattern).map((s) => s.count);
  }

  /** Hits of each site matching `pattern` since construction (armed hits only). */
  hits(pattern: string): number[] {
    return this.statesOf(pattern).map((s) => s.hits);
  }

  /**
   * Arm every marker matching `pattern`: returns the steps that raise each one's count by one
   * (when they start) and enable the sites whose count leaves zero — one protocol run for all
   * of them (split at the patcher's batch bound). Run the steps as the machine's patching
   * agent. Validation happens now: `no-match`, `bad-pattern`, `bad-format`, `site` (the site
   * does not hold its NOP) are thrown before anything is written.
   */
  arm(
    pattern: string | readonly string[],
  ): Generator<undefined | { wait: () => boolean; why: string }, ArmResult, void> {
    const states = this.statesOf(pattern);
    for (const st of states) this.checkSite(st);
    for (const st of states) st.planned++;
    return this.adjust(states, +1);
  }

  /**
   * Disarm every marker matching `pattern`: steps that lower each count by one and disable the
   * sites whose count reaches zero. Throws `not-armed` (changing nothing) when one of them is
   * not armed, counting the arm and disarm runs already handed out.
   */
  disarm(
    pattern: string | readonly string[],
  ): Generator<undefined | { wait: () => boolean; why: string }, ArmResult, void> {
    const states = this.statesOf(pattern);
    const idle = states.find((s) => s.planned === 0);
    if (idle) throw new MarkerError("not-armed", `marker ${siteName(idle.site)} is not armed`);
    for (const st of states) st.planned--;
    return this.adjust(states, -1);
  }

  private *adjust(
    states: SiteState[],
    by: 1 | -1,
  ): Generator<undefined | { wait: () => boolean; why: string }, ArmResult, void> {
    for (const st of states) st.count += by;
    return yield* this.reconcile();
  }

  /** Refuse a site whose bytes are not what its kind promises (nothing is written). */
  private checkSite(st: SiteState): void {
    const s = st.site;
    if (s.problem) throw new MarkerError("bad-format", `marker ${siteName(s)}: ${s.problem}`);
    const off = offBytes(s);
    if (!off || st.on) return;
    let now: Uint8Array;
    try {
      now = this.port.read(s.address, off.length);
    } catch {
      throw new MarkerError("site", `marker ${siteName(s)} at 0x${s.address.toString(16)} is not mapped`);
    }
    if (!now.every((b, i) => b === off[i]))
      throw new MarkerError(
        "site",
        `marker ${siteName(s)} at 0x${s.address.toString(16)} holds ${hexBytes(now)}, not the ${s.kind} site ${hexBytes(off)}`,
      );
  }

  /** Make the text and flags agree with the counts (the steps of arm and disarm). */
  private *reconcile(): Generator<undefined | { wait: () => boolean; why: string }, ArmResult, void> {
    const result: ArmResult = { enabled: 0, disabled: 0, batches: [], stubsFreed: 0 };
    // One patch writer at a time (probes may be patching too).
    yield { wait: () => this.port.lock.holder === undefined, why: "patch writer lock" };
    const turnOn = this.states.filter((s) => s.count > 0 && !s.on);
    const turnOff = this.states.filter((s) => s.count === 0 && s.on);
    if (turnOn.length + turnOff.length === 0) return result;
    const text: PatchSite[] = [];
    const freed: SiteState[] = [];
    for (const st of turnOn) {
      const s = st.site;
      st.on = true;
      result.enabled++;
      if (s.kind === "call") {
        this.port.writeMem(s.flag!, u32(st.id));
        yield;
        continue;
      }
      if (s.semaphore !== undefined) {
        this.bumpSemaphore(s.semaphore, +1);
        yield;
      }
      if (s.length === 5) {
        st.stub = this.arena.take(s.address);
        this.port.write(st.stub, stubBytes(st.stub, s.address, st.id));
        yield;
        text.push({
          addr: s.address,
          from: s.functionAddress ?? s.address,
          old: offBytes(s)!,
          new: encodeJmp32(s.address, st.stub),
        });
      } else text.push({ addr: s.address, from: s.functionAddress ?? s.address, old: NOP1, new: INT3 });
    }
    for (const st of turnOff) {
      const s = st.site;
      st.on = false;
      result.disabled++;
      if (s.kind === "call") {
        this.port.writeMem(s.flag!, u32(0));
        yield;
        continue;
      }
      if (s.semaphore !== undefined) {
        this.bumpSemaphore(s.semaphore, -1);
        yield;
      }
      if (s.length === 5) {
        text.push({
          addr: s.address,
          from: s.functionAddress ?? s.address,
          old: encodeJmp32(s.address, st.stub),
          new: offBytes(s)!,
        });
        freed.push(st);
      } else text.push({ addr: s.address, from: s.functionAddress ?? s.address, old: INT3, new: NOP1 });
    }
    text.sort((a, b) => a.addr - b.addr);
    const protocol = this.opts.protocol ?? "int3-batch";
    const unsafe = this.opts.unsafe === true;
    for (let i = 0; i < text.length; i += this.patcher.maxBatch) {
      if (i > 0) yield { wait: () => this.port.lock.holder === undefined, why: "patch writer lock" };
      result.batches.push(
        yield* this.patcher.patch(text.slice(i, i + this.patcher.maxBatch), { protocol, unsafe }),
      );
    }
    if (freed.length > 0) {
      // A stub is freed only when no CPU can be inside it: no RIP in it and (the stub is left
      // by a jmp, never returned to) nothing else; quiescence also scans stacks, which is
      // costly, so it is checked every 64th time the agent is offered a step.
      const ranges = freed.map((st) => ({ start: st.stub, len: STUB_SIZE }));
      let tick = 0;
      yield { wait: () => (++tick & 63) === 0 && this.port.quiescent(ranges), why: "stub quiescence" };
      for (const st of freed) {
        if (!st.on) {
          this.port.freeExec(st.stub, STUB_SIZE);
          result.stubsFreed++;
        }
      }
    }
    return result;
  }

  private bumpSemaphore(addr: number, by: number): void {
    const b = this.port.readMem(addr, 2);
    const v = (b[0]! | (b[1]! << 8)) + by;
    this.port.writeMem(addr, Uint8Array.of(v & 0xff, (v >> 8) & 0xff));
  }

  /** A hit: decode the arguments once and call every connected probe. */
  private fire(st: SiteState, cpu: MarkerCpu, viaStub: boolean): void {
    if (!st.on) return;
    st.hits++;
    this.totals.hits++;
    const conns = st.conns;
    if (conns.length === 0) return;
    const site = st.site;
    const port = this.port;
    let rspFix = 0n;
    let raxAt = -1;
    if (viaStub) {
      raxAt = Number(cpu.reg64n(4));
      rspFix = BigInt(STUB_RSP_OFFSET);
    }
    const ctx: ArgContext = {
      reg: (r) => {
        if (r === 4) return BigInt.asUintN(64, cpu.reg64n(4) + rspFix);
        if (r === 0 && raxAt >= 0) return littleEndian(port.readMem(raxAt, 8));
        return cpu.reg64n(r);
      },
      nextRip: site.address + site.length,
      read: (a, n) => port.readMem(a, n),
      symbol: (name) => this.opts.symbols?.get(name),
    };
    const max = this.opts.maxString ?? 4096;
    const args: ProbeValue[] = [];
    for (let i = 0; i < site.args.length; i++) {
      let raw = 0n;
      try {
        raw = argValue(site.args[i]!, ctx);
      } catch (e) {
        if (!(e instanceof ArgFault)) throw e;
        st.argFaults++;
        this.totals.argFaults++;
      }
      args.push(
        convert(st.convs[i] ?? "lu", raw, (a) => readGuestString((x, n) => port.readMem(x, n), a, max)),
      );
    }
    const event: MarkerEvent = { site, marker: siteName(site), args, cpu: cpu.id, time: cpu.cycles };
    const body = this.opts.handlerCycles ?? port.probeHandlerCycles ?? 0;
    for (const c of conns) {
      if (!c.connected) continue;
      if (body > 0) cpu.charge?.(body);
      c.calls++;
      this.totals.probeCalls++;
      try {
        c.probe(event);
      } catch (e) {
        c.errors++;
        this.totals.probeErrors++;
        if (c.errors === 1) {
          if (this.opts.onProbeError) this.opts.onProbeError(e, c, event);
          else
            process.stderr.write(
              `xmc: probe on ${c.pattern} threw at ${event.marker} (cpu ${event.cpu}): ${(e as Error)?.message ?? String(e)}; further errors of this probe are counted, not shown\n`,
            );
        }
      }
    }
  }
}

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}

function hexBytes(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(" ");
}
