/**
 * Basic-block dispatch: a hot straight-line run of cached uops gets one small JavaScript
 * function that calls each uop's own handler in order (`f0(c, u0); f1(c, u1); …`). It is still
 * an interpreter of exactly the same handlers — nothing is translated — but every call site in
 * the block's function sees one handler only, so V8 calls (and usually inlines) it directly
 * instead of dispatching through the megamorphic `u.fn(c, u)` of the run loop.
 *
 * Per instruction the block does what the run loop does: RIP set past the instruction before a
 * handler that may read it, the modeled cost added after the handler in the same order (the
 * cycle counter is bit-for-bit the same), and after an instruction that may store, a check of
 * the code cache's generation (a store into cached code ends the block there: the next
 * instruction is decoded again). A fault leaves the faulting instruction's index in
 * `c.blockFault`. Blocks never span a page, so dropping a page's uops drops its blocks.
 * @module
 */
import { formName } from "@xmc/x86-decode";
import type { CodeCache } from "../cache.ts";
import type { Cpu } from "../cpu.ts";
import { K, type Uop } from "../uop.ts";
import { BRANCH } from "./branch.ts";
import { STRING } from "./string.ts";
import { SYSTEM } from "./system.ts";

/**
 * A compiled block: `run` executes its instructions (over and over when it is a loop, while at
 * most `left` instructions) and returns how many completed; the last one is
 * `uops[(count - 1) % uops.length]`.
 */
export interface Block {
  run: (c: Cpu, cache: CodeCache, gen: number, left: number) => number;
  uops: Uop[];
}

/** Executions of a uop (by the single-step loop) before a block is built from it. */
export const BLOCK_THRESHOLD = 48;
/** Longest block. */
const MAX_LEN = 64;
/** Instructions per generated function (see buildBlock). */
const CHUNK: number = Number(globalThis.process?.env?.XMC_CHUNK ?? 5);

/** Control transfers: included as a block's last instruction. */
const ENDS = new Set(Object.keys(BRANCH));
/** Never inside a block: handlers that may stop the CPU, change TF, or call the host. */
const EXCLUDED = new Set([...Object.keys(SYSTEM), "popf", "popfw"]);
const STRINGS = new Set(Object.keys(STRING));

const PAGE = 4096;
let serial = 0;

/** Instructions whose specialised handler may store to memory. */
function mayStore(u: Uop, name: string): boolean {
  if (!u.spec) return true;
  return u.k0 === K.Mem || name.startsWith("push");
}

/** Build the block starting at `head`, or null when it would be shorter than two instructions. */
export function buildBlock(head: Uop, cache: CodeCache): Block | null {
  const page = Math.floor(head.ip / PAGE);
  const uops: Uop[] = [];
  let u: Uop | undefined = head;
  while (u !== undefined && uops.length < MAX_LEN) {
    if (Math.floor((u.ip + u.len - 1) / PAGE) !== page || Math.floor(u.ip / PAGE) !== page) break;
    const name = formName(u.form);
    if (EXCLUDED.has(name)) break;
    uops.push(u);
    if (ENDS.has(name) || (u.rep !== 0 && STRINGS.has(name))) break;
    u = cache.peek(u.next);
  }
  if (uops.length < 2) return null;
  const names: string[] = [];
  const values: unknown[] = [];
  const len = uops.length;
  const last = len - 1;
  // A block whose last instruction jumps back to its head (an inner loop) iterates inside its
  // function while the budget allows.
  const loops = uops[last]!.target === head.ip && ENDS.has(formName(uops[last]!.form));
  // Instructions in chunks of CHUNK, one function each (V8 inlines only so much into one
  // function); a chunk returns 0 when it completed, else (after a store into cached code) the
  // number of the block's instructions completed, with RIP set after the last one.
  const chunks: string[] = [];
  let calls = "";
  for (let k0 = 0; k0 <= last; k0 += CHUNK) {
    let body = "";
    const k1 = Math.min(k0 + CHUNK, len);
    for (let k = k0; k < k1; k++) {
      const x = uops[k]!;
      const name = formName(x.form);
      names.push(`f${k}`, `u${k}`);
      values.push(x.fn, x);
      let s = `i = ${k};`;
      // Specialised handlers never read RIP; the last instruction may branch (sets RIP itself).
      if (!x.spec || k === last) s += ` c.rip = ${x.next};`;
      s += ` f${k}(c, u${k}); c.cycles += ${x.cost};`;
      if (k !== last && mayStore(x, name))
        s += ` if (cache.gen !== g) { c.rip = ${x.next}; return ${k + 1}; }`;
      body += `${s}\n`;
    }
    const j = chunks.length;
    chunks.push(
      `function c${j}(c, cache, g) {\nlet i = ${k0};\ntry {\n${body}return 0;\n} catch (e) {\nc.blockFault = i;\nthrow e;\n}\n}\n`,
    );
    calls += `k = c${j}(c, cache, g);\nif (k !== 0) return n + k;\n`;
  }
  const text = loops
    ? `for (;;) {\n${calls}n += ${len};\nif (c.rip !== ${head.ip} || n + ${len} > left) return n;\n}`
    : `${calls}return ${len};`;
  const id = `b${(serial++).toString(36)}_${head.ip.toString(16)}`;
  // A generated dispatcher of existing handlers: no guest data enters the source text.
  const make = new Function(
    ...names,
    `${chunks.join("")}return function ${id}(c, cache, g, left) {\nlet n = 0;\nlet k = 0;\ntry {\n${text}\n} catch (e) {\nc.blockDone = n;\nthrow e;\n}\n};`,
  );
  return { run: make(...values), uops };
}
