/**
 * Basic blocks: a hot straight-line run of cached uops (continuing through direct JMP/CALL to
 * targets on the same page) executed as a unit, in two tiers:
 *
 * 1. `runBlock`: the uops' handlers called in order from one loop, without the run loop's
 *    per-instruction work (budget, stop and single-step checks, successor lookup).
 * 2. Once a block has run {@link JIT_THRESHOLD} instructions, a generated JavaScript function
 *    that calls each uop's own handler in order (`f0(c, u0); f1(c, u1); …`). It is still an
 *    interpreter of exactly the same handlers — nothing is translated — but every call site
 *    sees one handler only, so V8 calls (and usually inlines) it directly instead of
 *    dispatching through a megamorphic `u.fn(c, u)`. V8 optimises such a function at a cost
 *    of milliseconds, which is why only blocks that run a lot get one.
 *
 * Per instruction both tiers do what the run loop does: RIP set past the instruction before a
 * handler that may read it, the modeled cost added after the handler in the same order (the
 * cycle counter is bit-for-bit the same), and after an instruction that may store, a check of
 * the code cache's generation (a store into cached code ends the block there: the next
 * instruction is decoded again). A block that ends with a jump to its head (an inner loop)
 * iterates while the budget allows. A fault leaves the faulting instruction's index in
 * `c.blockFault` and the instructions of earlier iterations in `c.blockDone`. A block is
 * registered on the 64-byte lines of its instructions: a write to one of them drops it.
 * @module
 */
import { formName } from "@xmc/x86-decode";
import type { CodeCache } from "../cache.ts";
import { CONDITION_CODES, type Cpu } from "../cpu.ts";
import { K, type Uop } from "../uop.ts";
import { BRANCH } from "./branch.ts";
import { STRING } from "./string.ts";
import { SYSTEM } from "./system.ts";

/** A block: its uops and, once hot, its generated function. */
export interface Block {
  uops: Uop[];
  /** `uops.length`. */
  len: number;
  /** Address of the first instruction. */
  head: number;
  /** The last instruction jumps back to the head. */
  loops: boolean;
  /**
   * Per uop: 1 = RIP set past it before the handler (which may change it), 2 = may store (check
   * the cache generation after), 4 = side exit (the block goes on only when RIP is then
   * `expect[k]`).
   */
  flags: Uint8Array;
  expect: number[];
  /** Instructions run by tier 1 so far. */
  heat: number;
  /** Set when a write dropped the block (cache.ts); a translated block checks it after a store. */
  dead?: boolean;
  /**
   * The generated function (tier 2), or null: executes the block (repeatedly when it loops,
   * while at most `left` instructions) and returns how many instructions completed; the last
   * one is `uops[(count - 1) % len]`.
   */
  run: RunFn | null;
}

/** A block's generated function: `run(c, block, cache, left)` (see {@link Block.run}). */
export type RunFn = (c: Cpu, b: Block, cache: CodeCache, left: number) => number;

/** Executions of a uop (by the single-step loop) before a block is built from it. */
export const BLOCK_THRESHOLD = 48;
/** Instructions the first blocks run in tier 1 before they get a generated function. */
export const JIT_THRESHOLD = 200_000;
/** The threshold doubles with every so many generated functions. */
export const JIT_DOUBLING = 16;
/** Longest block. */
const MAX_LEN = 64;
/** Instructions per generated function (see buildBlock). */
const CHUNK = 5;

/** Control transfers: included as a block's last instruction. */
const ENDS = new Set(Object.keys(BRANCH));
/** Never inside a block: handlers that may stop the CPU, change TF, or call the host. */
const EXCLUDED = new Set([...Object.keys(SYSTEM), "popf", "popfw"]);
const STRINGS = new Set(Object.keys(STRING));
/** Direct transfers a block continues through (to a target on the same page). */
const FOLLOW = new Set(["jmp_Jb", "jmp_Jz", "call_Jz"]);
/** Conditional branches (specialised ones set RIP only when taken). */
const JCC = new Set(CONDITION_CODES.flatMap((cc) => [`j${cc}_Jb`, `j${cc}_Jz`]));

/**
 * Unreachable statements (`g` is never negative) that put a chunk's bytecode above V8's limit
 * for inlining a function (460 bytes).
 */
const PAD = `if (g < 0) {\n${Array.from({ length: 70 }, (_, i) => `c.blockDone = ${i};`).join("\n")}\n}\n`;

const PAGE = 4096;
let serial = 0;

/** Instructions whose specialised handler may store to memory. */
function mayStore(u: Uop, name: string): boolean {
  if (!u.spec) return true;
  return u.k0 === K.Mem || name.startsWith("push") || name.startsWith("call");
}

/** Build the block starting at `head`, or null when it would be shorter than two instructions. */
export function buildBlock(head: Uop, cache: CodeCache): Block | null {
  const page = Math.floor(head.ip / PAGE);
  const uops: Uop[] = [];
  const expect: number[] = [];
  const seen = new Set<number>();
  const returns: number[] = [];
  const onPage = (ip: number): boolean => Math.floor(ip / PAGE) === page && !seen.has(ip);
  let u: Uop | undefined = head;
  while (u !== undefined && uops.length < MAX_LEN && !seen.has(u.ip)) {
    if (Math.floor((u.ip + u.len - 1) / PAGE) !== page || Math.floor(u.ip / PAGE) !== page) break;
    const name = formName(u.form);
    if (EXCLUDED.has(name)) break;
    cache.specialize(u);
    uops.push(u);
    expect.push(-1);
    seen.add(u.ip);
    if (u.spec) {
      // A direct JMP or CALL continues the block at its target when that is on the same page and
      // not in the block yet.
      if (FOLLOW.has(name) && onPage(u.target)) {
        if (name === "call_Jz") returns.push(u.next);
        u = cache.peek(u.target);
        continue;
      }
      // A RET matching a CALL in the block, and a conditional branch in the direction it went
      // (the fall-through when that was seen), continue it too, with a side exit: when RIP is
      // not the expected one after the instruction, the block ends there.
      let to = -1;
      if (name === "ret" && returns.length > 0) to = returns.pop()!;
      else if (JCC.has(name) && u.target !== head.ip) {
        if (u.nextU !== null) to = u.next;
        else if (u.takenU !== null && u.takenIp === u.target) to = u.target;
      }
      if (to >= 0 && onPage(to)) {
        expect[expect.length - 1] = to;
        u = cache.peek(to);
        continue;
      }
    }
    if (ENDS.has(name) || (u.rep !== 0 && STRINGS.has(name))) break;
    u = cache.peek(u.next);
  }
  // A side exit as the last instruction is just the end.
  if (uops.length > 0) expect[uops.length - 1] = -1;
  if (uops.length < 2) return null;
  // The block's other instructions reached the threshold about now too; they are no longer
  // single-stepped unless entered by a jump, and need a fresh count before they start a block.
  for (let k = 1; k < uops.length; k++) {
    const x = uops[k]!;
    if (x.blk === null && x.heat >= 0) x.heat = -4 * cache.blockThreshold;
  }
  const len = uops.length;
  const last = len - 1;
  const flags = new Uint8Array(len);
  for (let k = 0; k < len; k++) {
    const x = uops[k]!;
    // Specialised handlers never read RIP; a branch (the last instruction, one with a side exit,
    // a JMP or CALL the block follows) may set it or leave it as it is.
    if (!x.spec || k === last || expect[k]! >= 0 || x.next !== uops[k + 1]!.ip) flags[k]! |= 1;
    if (k !== last && mayStore(x, formName(x.form))) flags[k]! |= 2;
    if (expect[k]! >= 0) flags[k]! |= 4;
  }
  const loops = uops[last]!.target === head.ip && ENDS.has(formName(uops[last]!.form));
  const b: Block = { uops, len, head: head.ip, loops, flags, expect, heat: 0, run: null };
  // A write to any line of the block's instructions drops it (cache.ts).
  cache.addBlock(b);
  return b;
}

/** Tier 1: run block `b` (see {@link Block.run}). */
export function runBlock(c: Cpu, cache: CodeCache, b: Block, left: number): number {
  const us = b.uops;
  const fl = b.flags;
  const len = b.len;
  const g = cache.gen;
  let n = 0;
  let i = 0;
  try {
    for (;;) {
      for (i = 0; i < len; i++) {
        const x = us[i]!;
        const f = fl[i]!;
        if (f & 1) c.rip = x.next;
        x.fn(c, x);
        c.ticks += x.ticks;
        if (f !== 1 && f !== 0) {
          if (f & 2 && cache.gen !== g) {
            // RIP is past the instruction unless it was set before the handler (which may branch).
            if (!(f & 1)) c.rip = x.next;
            return n + i + 1;
          }
          if (f & 4 && c.rip !== b.expect[i]) return n + i + 1;
        }
      }
      n += len;
      if (!b.loops || c.rip !== b.head || n + len > left) return n;
    }
  } catch (e) {
    c.blockFault = i;
    c.blockDone = n;
    throw e;
  }
}

/** Tier 2: generate `b.run`. */
export function compileBlock(b: Block): void {
  const uops = b.uops;
  const len = b.len;
  const names: string[] = [];
  const values: unknown[] = [];
  // One line per instruction; `ret` prefixes the count returned after a store into cached code.
  const line = (k: number, ret: string): string => {
    const x = uops[k]!;
    const f = b.flags[k]!;
    names.push(`f${k}`, `u${k}`);
    values.push(x.fn, x);
    let s = `i = ${k};`;
    if (f & 1) s += ` c.rip = ${x.next};`;
    s += ` f${k}(c, u${k}); c.ticks += ${x.ticks};`;
    if (f & 2) s += ` if (cache.gen !== g) { ${f & 1 ? "" : `c.rip = ${x.next}; `}return ${ret}${k + 1}; }`;
    if (f & 4) s += ` if (c.rip !== ${b.expect[k]}) return ${ret}${k + 1};`;
    return `${s}\n`;
  };
  let pre = "";
  let body = "";
  let handler = "c.blockDone = n;";
  if (len <= CHUNK) {
    // Short: the instructions directly in the block's function.
    for (let k = 0; k < len; k++) body += line(k, "n + ");
    pre = "let i = 0;\n";
    handler = "c.blockFault = i;\nc.blockDone = n;";
  } else {
    // Long: chunks of CHUNK instructions, one function each (V8 inlines only so much into one
    // function); a chunk returns 0 when it completed, else (after a store into cached code)
    // the number of the block's instructions completed, with RIP set after the last one. Each
    // chunk starts with PAD, never executed, so that V8 does not inline the chunk into the
    // block's function (where all the chunks' handlers would share one inlining budget).
    for (let k0 = 0, j = 0; k0 < len; k0 += CHUNK, j++) {
      let lines = "";
      for (let k = k0; k < Math.min(k0 + CHUNK, len); k++) lines += line(k, "");
      pre += `function c${j}(c, cache, g) {\n${PAD}let i = ${k0};\ntry {\n${lines}return 0;\n} catch (e) {\nc.blockFault = i;\nthrow e;\n}\n}\n`;
      body += `k = c${j}(c, cache, g);\nif (k !== 0) return n + k;\n`;
    }
  }
  const text = b.loops
    ? `for (;;) {\n${body}n += ${len};\nif (c.rip !== ${b.head} || n + ${len} > left) return n;\n}`
    : `${body}return ${len};`;
  // A unique name: this code must not be shared (exec/translate.ts `shared`) with another block's,
  // even of the same source, nor hit V8's cache of compiled sources: it calls each uop's own
  // handler closure, and shared code sees them all (megamorphic calls, nothing inlined: the
  // interpreter's tier 2 ran at half speed from a process's second machine on).
  const id = `b${(serial++).toString(36)}_${b.head.toString(16)}`;
  // A generated dispatcher of existing handlers: no guest data enters the source text.
  const make = new Function(
    ...names,
    `${len <= CHUNK ? "" : pre}return function ${id}(c, B, cache, left) {\nconst g = cache.gen;\n${len <= CHUNK ? pre : ""}let n = 0;\nlet k = 0;\ntry {\n${text}\n} catch (e) {\n${handler}\nthrow e;\n}\n};`,
  );
  b.run = make(...values);
}
