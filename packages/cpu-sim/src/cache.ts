/**
 * The decoded-instruction cache: guest address → {@link Uop}. Correct under self-modifying
 * code: every page holding cached instructions is marked in memory (writes to it take the slow
 * path), and a write drops exactly the cached instructions and blocks with bytes on the 64-byte
 * lines it touches (and bumps the generation that guards the successor links between uops and
 * ends a running block). A store to a code page's other lines (data next to code) drops nothing.
 * @module
 */
import { DECODE_ERROR_TEXT, DecodeError, decode, formName, Instruction } from "@xmc/x86-decode";
import { CpuException, Vec } from "./errors.ts";
import type { Block } from "./exec/block.ts";
import { BLOCK_THRESHOLD, JIT_THRESHOLD } from "./exec/block.ts";
import { GuestFault, type Memory, PAGE_SIZE } from "./memory.ts";
import { type Handler, Uop } from "./uop.ts";

/** Invalidation granularity in bytes (a cache line). */
export const LINE = 64;

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
  /** Per 64-byte line: the uops with bytes on it (entries of dropped uops may linger: checked by identity). */
  private readonly byLine = new Map<number, Uop[]>();
  /** The list of the line last registered on (-1: none), while it is in `byLine`. */
  private lastLine = -1;
  private lastList: Uop[] = [];
  /** Per line: the blocks with an instruction on it. */
  private readonly blocksByLine = new Map<number, Block[]>();
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
  /**
   * Fast mode: a hot block's generated function is a translation with the semantics inline
   * (exec/translate.ts) instead of calls to its handlers (exec/block.ts `compileBlock`).
   */
  translate = false;
  /** The current threshold for a generated function, and the number generated. */
  jitNext: number = JIT_THRESHOLD;
  jitted = 0;
  /** Decodes performed (cache misses). */
  misses = 0;
  /** Writes that dropped cached code (each bumps `gen`). */
  invalidations = 0;
  /** Misses answered by reviving a dropped uop whose bytes had not changed. */
  revived = 0;
  /**
   * Uops dropped by writes, by address: a rewrite usually changes one instruction of a line, and
   * the others come back without decoding when their bytes are the same (bounded; cleared when full).
   */
  private readonly dropped = new Map<number, Uop>();
  private readonly buf = new Uint8Array(16);
  private readonly insn = new Instruction();
  private readonly mem: Memory;
  private readonly table: HandlerTable;
  private readonly handlers: (Handler | undefined)[] = [];

  constructor(mem: Memory, table: HandlerTable) {
    this.mem = mem;
    this.table = table;
    mem.onCodeWrite = (addr, len) => this.invalidate(addr, len);
  }

  /** The uop at `ip`, decoding it on a miss. Throws GuestFault (exec) when `ip` is not executable. */
  lookup(ip: number): Uop {
    // A direct-mapped front of the map (addresses above 2^31 are slow Map keys): an entry is
    // good while its uop is live (dropped uops are never live again unless revived at the same
    // address, where they are the cached uop again).
    const i = ip & 1023;
    const f = this.front[i];
    if (f !== undefined && f.ip === ip && f.live) return f;
    const u = this.map.get(ip) ?? this.fill(ip);
    this.front[i] = u;
    return u;
  }
  private readonly front: (Uop | undefined)[] = new Array(1024).fill(undefined);

  /** The cached uop at `ip`, if any (never decodes). */
  peek(ip: number): Uop | undefined {
    return this.map.get(ip);
  }

  private fill(ip: number): Uop {
    this.misses++;
    const n = this.mem.fetch(ip, this.buf, 15);
    const old = this.dropped.get(ip);
    if (old !== undefined && old.len <= n) {
      const b = old.bytes;
      let same = true;
      for (let i = 0; i < b.length; i++)
        if (b[i] !== this.buf[i]) {
          same = false;
          break;
        }
      this.dropped.delete(ip);
      if (same) {
        // The same bytes at the same address decode to the same uop: start it afresh.
        old.live = true;
        old.nextU = null;
        old.takenU = null;
        old.takenIp = -1;
        old.heat = 0;
        this.revived++;
        return this.enter(old);
      }
    }
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
      u.cost = this.table.cost(u, name);
      const fast = this.table.specialize?.(u, name);
      if (fast) {
        u.fn = fast;
        u.spec = true;
      }
    }
    return this.enter(u);
  }

  /** Cache `u` (decoded or revived) and register it on its lines and pages. */
  private enter(u: Uop): Uop {
    const ip = u.ip;
    this.map.set(ip, u);
    const end = ip + Math.max(u.len, 1) - 1;
    for (let l = Math.floor(ip / LINE); l <= Math.floor(end / LINE); l++) {
      // Consecutive instructions mostly share a line: remember the last one's list.
      if (l === this.lastLine) {
        this.lastList.push(u);
        continue;
      }
      let list = this.byLine.get(l);
      if (list) list.push(u);
      else {
        list = [u];
        this.byLine.set(l, list);
      }
      this.lastLine = l;
      this.lastList = list;
    }
    for (let p = Math.floor(ip / PAGE_SIZE); p <= Math.floor(end / PAGE_SIZE); p++) this.mem.markCode(p, 1);
    return u;
  }

  /** Register block `b` on the lines of its instructions (a write to one of them drops it). */
  addBlock(b: Block): void {
    let last = -1;
    for (const x of b.uops) {
      const end = Math.floor((x.ip + Math.max(x.len, 1) - 1) / LINE);
      for (let l = Math.floor(x.ip / LINE); l <= end; l++) {
        if (l === last) continue;
        last = l;
        const list = this.blocksByLine.get(l);
        if (list) {
          if (!list.includes(b)) list.push(b);
        } else this.blocksByLine.set(l, [b]);
      }
    }
  }

  /** Drop uop `u` (when it is still the cached one). */
  private drop(u: Uop): boolean {
    if (this.map.get(u.ip) !== u) return false;
    this.map.delete(u.ip);
    u.live = false;
    u.blk = null;
    if (this.dropped.size >= 4096) this.dropped.clear();
    this.dropped.set(u.ip, u);
    const end = u.ip + Math.max(u.len, 1) - 1;
    for (let p = Math.floor(u.ip / PAGE_SIZE); p <= Math.floor(end / PAGE_SIZE); p++)
      this.mem.markCode(p, -1);
    return true;
  }

  /**
   * A write to [addr, addr+len) (guest store, host write, unmap): drop the cached instructions
   * and blocks with bytes on the lines it touches.
   */
  invalidate(addr: number, len: number): void {
    let hit = false;
    const last = Math.floor((addr + Math.max(len, 1) - 1) / LINE);
    for (let l = Math.floor(addr / LINE); l <= last; l++) {
      const list = this.byLine.get(l);
      if (list !== undefined) {
        this.byLine.delete(l);
        if (l === this.lastLine) this.lastLine = -1;
        for (const u of list) if (this.drop(u)) hit = true;
      }
      const blocks = this.blocksByLine.get(l);
      if (blocks !== undefined) {
        this.blocksByLine.delete(l);
        for (const b of blocks) {
          const h = b.uops[0]!;
          if (h.blk === b) h.blk = null;
          b.dead = true;
        }
        hit = true;
      }
    }
    if (hit) {
      this.gen++;
      this.invalidations++;
    }
  }

  /** Drop every cached instruction that has bytes on `page`. */
  invalidatePage(page: number): void {
    this.invalidate(page * PAGE_SIZE, PAGE_SIZE);
  }

  /** Drop everything (e.g. exec). */
  clear(): void {
    for (const u of [...this.map.values()]) this.drop(u);
    this.dropped.clear();
    this.byLine.clear();
    this.lastLine = -1;
    this.blocksByLine.clear();
    this.gen++;
  }

  /** Number of cached instructions. */
  get size(): number {
    return this.map.size;
  }
}
