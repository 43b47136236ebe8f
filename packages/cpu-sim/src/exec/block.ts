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

/** A compiled block: `run` executes up to `uops.length` instructions, returns how many completed. */
export interface Block {
  run: (c: Cpu, cache: CodeCache, gen: number) => number;
  uops: Uop[];
}

/** Executions of a uop (by the single-step loop) before a block is built from it. */
export const BLOCK_THRESHOLD = 48;
/** Longest block. */
const MAX_LEN = 64;

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
  let body = "let i = 0;\ntry {\n";
  const last = uops.length - 1;
  for (let k = 0; k <= last; k++) {
    const x = uops[k]!;
    const name = formName(x.form);
    names.push(`f${k}`, `u${k}`);
    values.push(x.fn, x);
    let s = `i = ${k};`;
    // Specialised handlers never read RIP; the last instruction may branch (sets RIP itself).
    if (!x.spec || k === last) s += ` c.rip = ${x.next};`;
    s += ` f${k}(c, u${k}); c.cycles += ${x.cost};`;
    if (k !== last && mayStore(x, name)) s += ` if (cache.gen !== g) { c.rip = ${x.next}; return ${k + 1}; }`;
    body += `${s}\n`;
  }
  body += `return ${uops.length};\n} catch (e) { c.blockFault = i; throw e; }`;
  const id = `b${(serial++).toString(36)}_${head.ip.toString(16)}`;
  // A generated dispatcher of existing handlers: no guest data enters the source text.
  const make = new Function(...names, `return function ${id}(c, cache, g) {\n${body}\n};`);
  return { run: make(...values), uops };
}
