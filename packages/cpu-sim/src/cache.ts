/**
 * The decoded-instruction cache: guest address → {@link Uop}. Correct under self-modifying
 * code: every page holding cached instructions is marked in memory (writes to it take the slow
 * path), and a write drops exactly the cached instructions and blocks with bytes on the 64-byte
 * lines it touches (and bumps the generation that guards the successor links between uops and
 * ends a running block). A store to a code page's other lines (data next to code) drops nothing.
 * Records are kept per page in arrays (`CodePage`). Byte-exact invalidation was measured and
 * did not pay: a rewrite then drops its instructions one store at a time (more invalidations
 * for the same decodes; smc fixture 4.0 vs 3.0 µs per rewrite).
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
  /** In ticks (cost.ts `toTicks`). */
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

/**
 * The cache's records for one 4 KiB page of code, indexed by offset (instructions) and by line.
 * Guest code lives above 2^31 (mmap, stacks, PIE), where numbers are boxed Map keys and a Map
 * churned by drop/refill (self-modifying code) costs far more than an array slot.
 */
class CodePage {
  /** The cached uop at each offset. */
  readonly uops: (Uop | undefined)[] = new Array(PAGE_SIZE).fill(undefined);
  /** Uops dropped by a write, at their offset (see `CodeCache.dropped`). */
  readonly dropped: (Uop | undefined)[] = new Array(PAGE_SIZE).fill(undefined);
  /**
   * Per 64-byte line: the uops with bytes on it, the first `lineN[k]` entries of `lines[k]`
   * (entries of dropped uops may linger: checked by identity).
   */
  readonly lines: (Uop[] | undefined)[] = new Array(PAGE_SIZE / LINE).fill(undefined);
  readonly lineN: Int32Array = new Int32Array(PAGE_SIZE / LINE);
  /** Per line: the blocks with an instruction on it. */
  readonly blocks: (Block[] | undefined)[] = new Array(PAGE_SIZE / LINE).fill(undefined);
}

const LINES_PER_PAGE = PAGE_SIZE / LINE;

/** Decoded-instruction cache of one address space. */
export class CodeCache {
  /** Pages with cached, dropped or registered code, by page number. */
  private readonly pages = new Map<number, CodePage>();
  /** The page last looked up (most lookups stay on one page). */
  private lastPageNo = -1;
  private lastPage: CodePage | undefined;
  /** Cached uops in all pages. */
  private count = 0;
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
  /** Of those, blocks fast mode could not translate (run on their handlers; 0 unless a bug). */
  untranslated = 0;
  /** Decodes performed (cache misses). */
  misses = 0;
  /** Writes that dropped cached code (each bumps `gen`). */
  invalidations = 0;
  /** Misses answered by reviving a dropped uop whose bytes had not changed. */
  revived = 0;
  /**
   * Uops dropped by writes are kept at their address (`CodePage.dropped`): a rewrite usually
   * changes one instruction of a line, and the others come back without decoding when their
   * bytes are the same. Bounded: all are forgotten when `droppedCount` reaches 4096.
   */
  private droppedCount = 0;
  private readonly buf = new Uint8Array(16);
  /** `buf`'s first n bytes, for each n (a fresh subarray per decode costs an allocation). */
  private readonly views = Array.from({ length: 16 }, (_, n) => this.buf.subarray(0, n));
  private readonly insn = new Instruction();
  private readonly mem: Memory;
  private readonly table: HandlerTable;
  private readonly handlers: (Handler | undefined)[] = [];

  constructor(mem: Memory, table: HandlerTable) {
    this.mem = mem;
    this.table = table;
    mem.onCodeWrite = (addr, len) => this.invalidate(addr, len);
  }

  /** The records of page `pno`, created when `make` (else undefined when there are none). */
  private page(pno: number, make: boolean): CodePage | undefined {
    if (pno === this.lastPageNo) return this.lastPage;
    let pg = this.pages.get(pno);
    if (pg === undefined) {
      if (!make) return undefined;
      pg = new CodePage();
      this.pages.set(pno, pg);
    }
    this.lastPageNo = pno;
    this.lastPage = pg;
    return pg;
  }

  /** The uop at `ip`, decoding it on a miss. Throws GuestFault (exec) when `ip` is not executable. */
  lookup(ip: number): Uop {
    // A direct-mapped front of the pages: an entry is good while its uop is live (dropped uops
    // are never live again unless revived at the same address, where they are the cached uop).
    const i = ip & 1023;
    const f = this.front[i];
    if (f !== undefined && f.ip === ip && f.live) return f;
    const pno = Math.floor(ip / PAGE_SIZE);
    const u = this.page(pno, false)?.uops[ip & (PAGE_SIZE - 1)] ?? this.fill(ip);
    this.front[i] = u;
    return u;
  }
  private readonly front: (Uop | undefined)[] = new Array(1024).fill(undefined);

  /** The cached uop at `ip`, if any (never decodes). */
  peek(ip: number): Uop | undefined {
    const pno = Math.floor(ip / PAGE_SIZE);
    return this.page(pno, false)?.uops[ip & (PAGE_SIZE - 1)];
  }

  private fill(ip: number): Uop {
    this.misses++;
    const pno = Math.floor(ip / PAGE_SIZE);
    const off = ip & (PAGE_SIZE - 1);
    // Decode in the page when the instruction cannot run past it (15 bytes at most), else from
    // a copy of what can be fetched.
    let code: Uint8Array;
    let at = 0;
    let n = 15;
    if (off <= PAGE_SIZE - 15) {
      code = this.mem.execPage(ip);
      at = off;
    } else {
      n = this.mem.fetch(ip, this.buf, 15);
      code = this.views[n]!;
    }
    const pg = this.page(pno, false);
    let old = pg?.dropped[off];
    if (old !== undefined) {
      pg!.dropped[off] = undefined;
      this.droppedCount--;
      const b = old.raw;
      let same = old.len <= n;
      for (let i = 0; same && i < b.length; i++) if (b[i] !== code[at + i]) same = false;
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
    const len = decode(code, at, ip, 64, insn);
    if (len === 0) {
      if (insn.error === DecodeError.Truncated && n < 15) {
        // The instruction continues into a page we may not execute: fault there.
        throw new GuestFault(ip + n, "exec", this.mem.isMapped(ip + n, 1));
      }
      const bad = code.subarray(at, at + Math.min(n, 15));
      // Build a one-byte uop that raises #UD when executed.
      decode(Uint8Array.of(0x90), 0, ip, 64, insn);
      const u = new Uop(invalid, insn);
      u.text = `(${DECODE_ERROR_TEXT[insn.error] ?? "bad"}: ${Buffer.from(bad).toString("hex")})`;
      u.raw = Array.from(bad);
      return this.enter(u);
    }
    const form = insn.form;
    let h = this.handlers[form];
    const name = formName(form);
    if (h === undefined) {
      h = this.table.handler(form, name) ?? unimplemented(name);
      this.handlers[form] = h;
    }
    // An instruction rewritten at the same address takes over the dropped uop's object (no
    // allocation: code rewritten before every call pays for a decode only).
    if (old !== undefined) old.reload(h, insn);
    else old = new Uop(h, insn);
    old.ticks = this.table.cost(old, name);
    // Specialised on its second execution or when a block takes it (`specialize`): code run
    // once (rewritten before each call) does not pay for it.
    return this.enter(old);
  }

  /**
   * Give `u` its specialised handler, if the table has one (once; same semantics as the generic
   * handler). The run loop calls it on an instruction's second execution, blocks on theirs.
   */
  specialize(u: Uop): void {
    if (u.tried) return;
    u.tried = true;
    const fast = this.table.specialize?.(u, formName(u.form));
    if (fast) {
      u.fn = fast;
      u.spec = true;
    }
  }

  /** Cache `u` (decoded or revived) and register it on its lines and pages. */
  private enter(u: Uop): Uop {
    const ip = u.ip;
    const pno = Math.floor(ip / PAGE_SIZE);
    const pg = this.page(pno, true)!;
    pg.uops[ip & (PAGE_SIZE - 1)] = u;
    this.count++;
    const end = ip + Math.max(u.len, 1) - 1;
    for (let l = Math.floor(ip / LINE); l <= Math.floor(end / LINE); l++) {
      const lp = Math.floor(l / LINES_PER_PAGE) === pno ? pg : this.linePage(l);
      const k = l & (LINES_PER_PAGE - 1);
      let list = lp.lines[k];
      if (list === undefined) {
        list = [];
        lp.lines[k] = list;
      }
      list[lp.lineN[k]!++] = u;
    }
    for (let p = Math.floor(ip / PAGE_SIZE); p <= Math.floor(end / PAGE_SIZE); p++) this.mem.markCode(p, 1);
    return u;
  }

  /** The page records of line `l` (created). */
  private linePage(l: number): CodePage {
    return this.page(Math.floor(l / LINES_PER_PAGE), true)!;
  }

  /** Register block `b` on the lines of its instructions (a write to one of them drops it). */
  addBlock(b: Block): void {
    let last = -1;
    for (const x of b.uops) {
      const end = Math.floor((x.ip + Math.max(x.len, 1) - 1) / LINE);
      for (let l = Math.floor(x.ip / LINE); l <= end; l++) {
        if (l === last) continue;
        last = l;
        const lp = this.linePage(l);
        const k = l & (LINES_PER_PAGE - 1);
        const list = lp.blocks[k];
        if (list) {
          if (!list.includes(b)) list.push(b);
        } else lp.blocks[k] = [b];
      }
    }
  }

  /** Drop uop `u` (when it is still the cached one). */
  private drop(u: Uop): boolean {
    const ip = u.ip;
    const pno = Math.floor(ip / PAGE_SIZE);
    const pg = this.page(pno, false);
    const off = ip & (PAGE_SIZE - 1);
    if (pg === undefined || pg.uops[off] !== u) return false;
    pg.uops[off] = undefined;
    this.count--;
    u.live = false;
    u.blk = null;
    if (this.droppedCount >= 4096) this.forgetDropped();
    if (pg.dropped[off] === undefined) this.droppedCount++;
    pg.dropped[off] = u;
    const end = ip + Math.max(u.len, 1) - 1;
    for (let p = Math.floor(ip / PAGE_SIZE); p <= Math.floor(end / PAGE_SIZE); p++) this.mem.markCode(p, -1);
    return true;
  }

  /** Forget every dropped uop (the bound of `droppedCount`). */
  private forgetDropped(): void {
    for (const pg of this.pages.values()) pg.dropped.fill(undefined);
    this.droppedCount = 0;
  }

  /**
   * A write to [addr, addr+len) (guest store, host write, unmap): drop the cached instructions
   * and blocks with bytes on the lines it touches.
   */
  invalidate(addr: number, len: number): void {
    let hit = false;
    const last = Math.floor((addr + Math.max(len, 1) - 1) / LINE);
    for (let l = Math.floor(addr / LINE); l <= last; l++) {
      const lp = this.page(Math.floor(l / LINES_PER_PAGE), false);
      if (lp === undefined) {
        // No records on this page: skip to the next page's first line.
        l = (Math.floor(l / LINES_PER_PAGE) + 1) * LINES_PER_PAGE - 1;
        continue;
      }
      const k = l & (LINES_PER_PAGE - 1);
      const cnt = lp.lineN[k]!;
      if (cnt !== 0) {
        // The list's array is kept for the line's next instructions (no allocation per rewrite).
        lp.lineN[k] = 0;
        const list = lp.lines[k]!;
        for (let i = 0; i < cnt; i++) if (this.drop(list[i]!)) hit = true;
      }
      const blocks = lp.blocks[k];
      if (blocks !== undefined) {
        lp.blocks[k] = undefined;
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
    for (const pg of this.pages.values()) for (const u of pg.uops) if (u !== undefined) this.drop(u);
    this.pages.clear();
    this.lastPageNo = -1;
    this.lastPage = undefined;
    this.droppedCount = 0;
    this.gen++;
  }

  /** Number of cached instructions. */
  get size(): number {
    return this.count;
  }
}
