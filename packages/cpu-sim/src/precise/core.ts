/**
 * The part of precise mode shared by the bare litmus machine and by Linux programs run
 * precisely: fetching and decoding through a CPU's fetch unit, judging every instruction's
 * bytes against the write log, the uop cache keyed by address and bytes, and the bookkeeping
 * after an instruction (own stores, serialization, taken branches).
 * @module
 */
import { Br, DecodeError, decode, formatAtt, formName, Instruction } from "@xmc/x86-decode";
import { type CostProfile, classify, toTicks } from "../cost.ts";
import type { Cpu } from "../cpu.ts";
import { CpuException, Vec } from "../errors.ts";
import { HANDLERS } from "../exec/index.ts";
import { GuestFault } from "../memory.ts";
import { type Handler, Uop } from "../uop.ts";
import { type Fetched, type FetchUnit, newFetched } from "./fetch.ts";
import type { ByteOrigin, Hazard, HazardClass } from "./hazards.ts";
import { AGENT, LOADER, type TrackedMemory } from "./tracked-memory.ts";

/** Per-CPU precise state. */
export interface CoreCpu {
  cpu: Cpu;
  fetch: FetchUnit;
  /** Event time of this CPU's last serialization. */
  lastSerialize: number;
  /** Address after the previous instruction (-1 after a trap or at the start). */
  prevNext: number;
  /** The previous instruction transferred control (a taken branch, call, return). */
  branched: boolean;
}

/** Fetch, check, bookkeeping. */
export class PreciseCore {
  readonly mem: TrackedMemory;
  readonly strict: boolean;
  readonly profile: CostProfile;
  /** All hazards found (in order). */
  readonly hazards: Hazard[] = [];
  /**
   * Declared patched ranges (after the declaration time, starts strictly inside are hazards;
   * a range given an `end` time, once its original instructions are back, no longer is).
   */
  readonly patched: { start: number; len: number; time: number; end?: number }[] = [];
  /** Freed executable regions. */
  readonly freed: { start: number; len: number; time: number }[] = [];
  /** The bytes of the instruction being executed, with provenance. */
  readonly f: Fetched = newFetched();
  /** The decoded instruction being executed. */
  readonly insn: Instruction = new Instruction();
  private readonly handlerCache = new Map<number, Handler>();
  private readonly stepNo: () => number;

  constructor(mem: TrackedMemory, strict: boolean, profile: CostProfile, stepNo: () => number) {
    this.mem = mem;
    this.strict = strict;
    this.profile = profile;
    this.stepNo = stepNo;
  }

  /** Is the instruction at the CPU's RIP reached by a transfer of control? (and clear the flag) */
  takeBranched(p: CoreCpu): boolean {
    const b = p.branched || (p.prevNext !== -1 && p.prevNext !== p.cpu.rip);
    p.branched = false;
    return b;
  }

  /**
   * Fetch and decode the instruction at the CPU's RIP through its fetch unit. Returns the
   * length (0: not a valid instruction, `this.f.n` bytes fetched). Throws GuestFault when a
   * needed byte cannot be fetched.
   */
  fetchDecode(p: CoreCpu, branched: boolean): number {
    const rip = p.cpu.rip;
    const f = this.f;
    let len = 0;
    p.fetch.enter(rip, branched);
    for (;;) {
      p.fetch.read(rip, f);
      len = decode(f.bytes.subarray(0, f.n), 0, rip, 64, this.insn);
      if (len > 0 || this.insn.error !== DecodeError.Truncated || f.n >= 15) break;
      if (!p.fetch.fetchNext()) throw new GuestFault(rip + f.n, "exec", this.mem.isMapped(rip + f.n, 1));
    }
    p.fetch.trim(rip);
    return len;
  }

  /** Serialize: flush the fetch queue and remember when. */
  serialize(p: CoreCpu): void {
    p.fetch.flush();
    p.lastSerialize = this.mem.now;
  }

  /**
   * Execute uop `u` (the instruction just fetched) on `p`: stores by this CPU mark its queued
   * blocks stale, the cost is charged, serializing instructions serialize, taken branches are
   * remembered. Throws what the handler throws (RIP is then back at the instruction).
   */
  execute(p: CoreCpu, u: Uop): void {
    const c = p.cpu;
    const insn = this.insn;
    c.rip = u.next;
    const logLen = this.mem.log.length;
    try {
      u.fn(c, u);
    } catch (e) {
      c.rip = u.ip;
      throw e;
    }
    for (let i = logLen; i < this.mem.log.length; i++) {
      const w = this.mem.log[i]!;
      p.fetch.noteOwnStore(w.addr, w.size);
    }
    c.ticks += u.ticks;
    c.instructions++;
    if (insn.serializing) this.serialize(p);
    p.prevNext = u.next;
    const br = insn.branch;
    if (br !== 0) {
      // Conditional forms are taken when RIP went to the target; the others always transfer.
      const conditional = br === Br.Jcc || br === Br.Loop || br === Br.Jrcxz;
      p.branched = conditional ? c.rip === u.target : true;
    }
  }

  private origins(rip: number, len: number): ByteOrigin[] {
    const f = this.f;
    const log = this.mem.log;
    const out: ByteOrigin[] = [];
    for (let i = 0; i < len; i++) {
      const id = f.prov[i]!;
      const w = log[id]!;
      out.push({
        addr: rip + i,
        value: f.bytes[i]!,
        writeId: id,
        writer: w.by,
        writeTime: w.time,
        fetchTime: f.fetchTime[i]!,
        nextWriteTime: this.mem.nextWriteTime(rip + i, id),
      });
    }
    return out;
  }

  /** Judge the bytes of the instruction at `rip` (in `this.f`) and record hazards. */
  checkBytes(p: CoreCpu, rip: number, len: number, branched: boolean): void {
    const c = p.cpu;
    const f = this.f;
    const log = this.mem.log;
    let maxW = Number.NEGATIVE_INFINITY;
    let minN = Number.POSITIVE_INFINITY;
    let anyWritten = false;
    for (let i = 0; i < len; i++) {
      const id = f.prov[i]!;
      if (id === 0) continue; // initial image: valid from time 0 until its first write
      anyWritten = true;
      const w = log[id]!.time;
      if (w > maxW) maxW = w;
    }
    if (anyWritten) {
      for (let i = 0; i < len; i++) {
        const n = this.mem.nextWriteTime(rip + i, f.prov[i]!);
        if (n < minN) minN = n;
      }
      if (maxW >= minN)
        this.report(
          "torn",
          p,
          rip,
          this.origins(rip, len),
          "the instruction's bytes never coexisted in memory",
        );
    }
    if (this.strict && anyWritten) {
      for (let i = 0; i < len; i++) {
        const id = f.prov[i]!;
        const w = log[id]!;
        if (w.by === c.id || w.by === LOADER || w.time <= p.lastSerialize) continue;
        if (i === 0) {
          if (f.bytes[0] === 0xcc) continue; // INT3 over a first byte: the one safe unsynchronized write
          const replacedInt3 = w.old[rip - w.addr] === 0xcc;
          let tailSynced = true;
          for (let j = 1; j < len; j++) {
            const t = log[f.prov[j]!]!;
            if (t.by !== LOADER && t.time > p.lastSerialize) tailSynced = false;
          }
          if (replacedInt3 && tailSynced) continue;
        }
        this.report(
          "unsynchronized",
          p,
          rip,
          this.origins(rip, len),
          `byte ${i} was written by ${w.by === AGENT ? "the agent" : `cpu${w.by}`} after this CPU last serialized`,
        );
        break;
      }
    }
    for (const r of this.patched) {
      if (r.end === undefined && rip > r.start && rip < r.start + r.len) {
        this.report(
          branched ? "branch-into-patch" : "mid-instruction",
          p,
          rip,
          this.origins(rip, len),
          `${branched ? "a branch landed" : "execution started"} inside the patched range 0x${r.start.toString(16)}+${r.len}`,
        );
        break;
      }
    }
    for (const r of this.freed) {
      if (rip >= r.start && rip < r.start + r.len) {
        this.report(
          "freed-text",
          p,
          rip,
          this.origins(rip, len),
          `executing freed text 0x${r.start.toString(16)}+${r.len}`,
        );
        break;
      }
    }
  }

  /** Record a hazard. */
  report(cls: HazardClass, p: CoreCpu, rip: number, bytes: ByteOrigin[], detail: string): void {
    this.hazards.push({ cls, cpu: p.cpu.id, rip, time: this.mem.now, step: this.stepNo(), bytes, detail });
  }

  /** The uop for the decoded instruction in `this.insn` (cached by address and bytes). */
  uopFor(insn: Instruction, len: number): Uop {
    const f = this.f;
    const old = UOPS.get(insn.ip);
    if (old && old.len === len) {
      let same = true;
      for (let i = 0; i < len; i++) if (old.bytes[i] !== f.bytes[i]) same = false;
      if (same) return old;
    }
    const u = new Uop(this.handlerFor(insn.form) ?? unimplementedHandler, insn);
    u.text = formatAtt(insn);
    UOPS.set(insn.ip, u);
    if (u.ticks === 0) u.ticks = toTicks(classify(u, formName(insn.form), this.profile));
    return u;
  }

  private handlerFor(form: number): Handler | undefined {
    let h = this.handlerCache.get(form);
    if (h === undefined) {
      h = HANDLERS[formName(form)];
      if (h) this.handlerCache.set(form, h);
    }
    return h;
  }
}

/**
 * Uops by address, shared by every precise machine of the process (uops are pure functions of
 * their address and bytes; the bytes are compared on every use, because precise mode takes its
 * bytes from the fetch unit, never from a cache).
 */
const UOPS = new Map<number, Uop>();

const unimplementedHandler: Handler = (_c, u) => {
  throw new CpuException(Vec.UD, `unimplemented instruction \`${u.text}\``);
};
