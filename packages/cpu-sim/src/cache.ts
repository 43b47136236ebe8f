/**
 * The decoded-instruction cache: guest address → {@link Uop}. Correct under self-modifying
 * code: every page holding cached instructions is marked in memory, and a write to such a page
 * drops that page's entries (and bumps the generation that guards the straight-line successor
 * links between uops).
 * @module
 */
import { DECODE_ERROR_TEXT, DecodeError, decode, formatAtt, formName, Instruction } from "@xmc/x86-decode";
import { CpuException, Vec } from "./errors.ts";
import { BLOCK_THRESHOLD, JIT_THRESHOLD } from "./exec/block.ts";
import { GuestFault, type Memory, PAGE_SIZE } from "./memory.ts";
import { type Handler, Uop } from "./uop.ts";

/** Chooses the handler for a decoded form (by its name) and the modeled cost. */
export interface HandlerTable {
  handler(form: number, name: string): Handler | undefined;
  cost(u: Uop, name: string): number;
  /** A handler specialised for this instruction's operands (optional; same semantics). */
  specialize?(u: Uop, name: string): Handler | undefined;
}

const invalid: Handler = (_c, u) => {
  throw new CpuException(Vec.UD, `invalid instruction ${u.text} at 0x${u.ip.toString(16)}`);
};

function unimplemented(name: string): Handler {
  return (_c, u) => {
    throw new CpuException(
      Vec.UD,
      `unimplemented instruction \`${u.text}\` (${name}) at 0x${u.ip.toString(16)}`,
    );
  };
}

/** Decoded-instruction cache of one address space. */
export class CodeCache {
  private readonly map = new Map<number, Uop>();
  private readonly byPage = new Map<number, number[]>();
  /** Bumped whenever cached code is invalidated. */
  gen = 1;
  /**
   * Single-step executions of an instruction before a block is built from it (exec/block.ts);
   * 0 turns blocks off (every instruction dispatched by the run loop).
   */
  blockThreshold: number = BLOCK_THRESHOLD;
  /**
   * Instructions the first blocks run before they get a generated function (exec/block.ts);
   * 0: never. Later blocks need more (`jitNext`).
   */
  jitThreshold: number = JIT_THRESHOLD;
  /** The current threshold for a generated function, and the number generated. */
  jitNext: number = JIT_THRESHOLD;
  jitted = 0;
  /** Decodes performed (cache misses). */
  misses = 0;
  private readonly buf = new Uint8Array(16);
  private readonly insn = new Instruction();
  private readonly mem: Memory;
  private readonly table: HandlerTable;
  private readonly handlers: (Handler | undefined)[] = [];

  constructor(mem: Memory, table: HandlerTable) {
    this.mem = mem;
    this.table = table;
    mem.onCodeWrite = (page) => this.invalidatePage(page);
  }

  /** The uop at `ip`, decoding it on a miss. Throws GuestFault (exec) when `ip` is not executable. */
  lookup(ip: number): Uop {
    const u = this.map.get(ip);
    if (u !== undefined) return u;
    return this.fill(ip);
  }

  /** The cached uop at `ip`, if any (never decodes). */
  peek(ip: number): Uop | undefined {
    return this.map.get(ip);
  }

  private fill(ip: number): Uop {
    this.misses++;
    const n = this.mem.fetch(ip, this.buf, 15);
    const insn = this.insn;
    const len = decode(this.buf.subarray(0, n), 0, ip, 64, insn);
    let u: Uop;
    if (len === 0) {
      if (insn.error === DecodeError.Truncated && n < 15) {
        // The instruction continues into a page we may not execute: fault there.
        throw new GuestFault(ip + n, "exec", this.mem.isMapped(ip + n, 1));
      }
      // Build a one-byte uop that raises #UD when executed.
      decode(Uint8Array.of(0x90), 0, ip, 64, insn);
      u = new Uop(invalid, insn);
      u.text = `(${DECODE_ERROR_TEXT[insn.error] ?? "bad"}: ${Buffer.from(this.buf.subarray(0, Math.min(n, 15))).toString("hex")})`;
      u.bytes = this.buf.slice(0, Math.min(n, 15));
    } else {
      const form = insn.form;
      let h = this.handlers[form];
      const name = formName(form);
      if (h === undefined) {
        h = this.table.handler(form, name) ?? unimplemented(name);
        this.handlers[form] = h;
      }
      u = new Uop(h, insn);
      u.text = formatAtt(insn);
      u.cost = this.table.cost(u, name);
      const fast = this.table.specialize?.(u, name);
      if (fast) {
        u.fn = fast;
        u.spec = true;
      }
    }
    this.map.set(ip, u);
    const first = Math.floor(ip / PAGE_SIZE);
    const last = Math.floor((ip + Math.max(u.len, 1) - 1) / PAGE_SIZE);
    for (let p = first; p <= last; p++) {
      let list = this.byPage.get(p);
      if (!list) {
        list = [];
        this.byPage.set(p, list);
      }
      list.push(ip);
      this.mem.markCode(p, 1);
    }
    return u;
  }

  /** Drop every cached instruction that has bytes on `page`. */
  invalidatePage(page: number): void {
    const list = this.byPage.get(page);
    if (!list) return;
    this.byPage.delete(page);
    this.mem.markCode(page, -list.length);
    for (const ip of list) {
      const u = this.map.get(ip);
      if (!u) continue;
      this.map.delete(ip);
      u.blk = null;
      // An instruction spanning two pages is registered on both: release the other one too.
      const p2 = Math.floor((ip + u.len - 1) / PAGE_SIZE);
      const p1 = Math.floor(ip / PAGE_SIZE);
      const other = p1 === page ? p2 : p1;
      if (other !== page) {
        const l2 = this.byPage.get(other);
        if (l2) {
          const i = l2.indexOf(ip);
          if (i >= 0) {
            l2.splice(i, 1);
            this.mem.markCode(other, -1);
          }
        }
      }
    }
    this.gen++;
  }

  /** Drop everything (e.g. exec). */
  clear(): void {
    for (const p of this.byPage.keys()) this.mem.markCode(p, -(this.byPage.get(p)?.length ?? 0));
    for (const u of this.map.values()) u.blk = null;
    this.map.clear();
    this.byPage.clear();
    this.gen++;
  }

  /** Number of cached instructions. */
  get size(): number {
    return this.map.size;
  }
}
