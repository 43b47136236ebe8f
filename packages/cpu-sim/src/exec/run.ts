/**
 * The interpreter loop: runs one CPU from its RIP for up to `budget` instructions, following
 * cached straight-line successors. Hot straight-line runs execute as blocks (exec/block.ts:
 * the same handlers, called from one function per block). Exceptions leave RIP at the
 * faulting instruction.
 * @module
 */
import type { CodeCache } from "../cache.ts";
import type { Cpu } from "../cpu.ts";
import { CpuException, Vec } from "../errors.ts";
import type { Uop } from "../uop.ts";
import { type Block, buildBlock, compileBlock, JIT_DOUBLING, runBlock } from "./block.ts";
import { translateBlock } from "./translate.ts";

/** Why {@link runCpu} returned. */
export enum Stop {
  /** The instruction budget was used up. */
  Budget = 0,
  /** A handler asked to stop (`cpu.stopRequested`: exit, blocking syscall, yield). */
  Requested = 1,
  /** An exception or fault: in `cpu.fault`. */
  Fault = 2,
}

/**
 * Run `c` for at most `budget` instructions. Returns the reason; the number executed is added
 * to `c.instructions`. A thrown CpuException/GuestFault is stored in `c.fault` with RIP at the
 * faulting instruction.
 */
export function runCpu(c: Cpu, cache: CodeCache, budget: number): Stop {
  let n = 0;
  let cur: Uop | undefined;
  // True while a handler runs (a fault then belongs to `cur`); false while fetching/decoding.
  let executing = false;
  // The block running while `executing`, if any (a fault then belongs to its c.blockFault-th uop).
  let blk: Block | null = null;
  try {
    let u: Uop = cache.lookup(c.rip);
    cur = u;
    for (;;) {
      const b = u.blk;
      if (b !== null && n + b.len <= budget && (c.flags & 0x100) === 0) {
        blk = b;
        executing = true;
        const run = b.run;
        let k: number;
        if (run !== null) k = run(c, b, cache, budget - n);
        else {
          k = runBlock(c, cache, b, budget - n);
          if ((b.heat += k) >= cache.jitNext && cache.jitThreshold > 0) {
            if (cache.translate) {
              if (!translateBlock(b)) cache.untranslated++;
            } else compileBlock(b);
            cache.jitted++;
            // Each compilation costs V8 milliseconds: the more blocks already have functions, the
            // hotter the next one must be (the threshold doubles every JIT_DOUBLING blocks).
            cache.jitNext = cache.jitThreshold * 2 ** (cache.jitted / JIT_DOUBLING);
          }
        }
        executing = false;
        blk = null;
        n += k;
        u = b.uops[k <= b.len ? k - 1 : (k - 1) % b.len]!;
      } else {
        if (b === null) {
          const h = ++u.heat;
          if (h === 2) cache.specialize(u);
          if (h === cache.blockThreshold) u.blk = buildBlock(u, cache);
        }
        c.rip = u.next;
        executing = true;
        // TF at the start of the instruction means a single-step trap after it.
        const tf = c.flags & 0x100;
        u.fn(c, u);
        executing = false;
        c.ticks += u.ticks;
        n++;
        if (tf !== 0) {
          c.fault = new CpuException(Vec.DB, "single step");
          c.faultUop = u;
          c.instructions += n;
          return Stop.Fault;
        }
      }
      if (c.stopRequested) {
        c.stopRequested = false;
        c.instructions += n;
        return Stop.Requested;
      }
      if (n >= budget) {
        c.instructions += n;
        return Stop.Budget;
      }
      // Links stay valid while the uop they point to is cached (a write to its bytes drops it).
      const rip = c.rip;
      if (rip === u.next) {
        const nu: Uop | null = u.nextU;
        if (nu?.live) u = nu;
        else {
          const x = cache.lookup(rip);
          u.nextU = x;
          u = x;
        }
      } else {
        // A transfer of control: remember the last target of this instruction.
        const tu: Uop | null = u.takenU;
        if (tu !== null && u.takenIp === rip && tu.live) u = tu;
        else {
          const x = cache.lookup(rip);
          u.takenU = x;
          u.takenIp = rip;
          u = x;
        }
      }
      cur = u;
    }
  } catch (e) {
    if (executing && blk !== null) {
      // Instructions before the faulting one in the block completed (earlier iterations too).
      const i = c.blockFault;
      n += c.blockDone + i;
      cur = blk.uops[i];
    }
    // A fault leaves RIP at the faulting instruction (handlers run with RIP already advanced).
    if (executing && cur !== undefined) c.rip = cur.ip;
    c.fault = e;
    c.faultUop = cur;
    c.instructions += n;
    return Stop.Fault;
  }
}
