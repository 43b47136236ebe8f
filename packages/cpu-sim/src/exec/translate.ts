/**
 * Fast mode's tier 2: a hot block (exec/block.ts) translated into JavaScript source, the
 * instruction semantics written out inline instead of calls to handlers.
 *
 * - **Registers** the block touches live in locals (`a3`/`h3`: RBX's low and high int32
 *   halves), loaded at entry and written back at every exit, before a call to a handler and
 *   before a call that may throw (a slow memory access): the catch handler reads no locals.
 * - **Flags** stay lazy, in locals (`fo` the kind, `fs` the size, `fa fah fb fbh fr frh fc` as
 *   the Cpu's `lf*` fields): a producer only assigns locals, a condition after a producer of the
 *   same block is an expression on them (`cmp; jl` is `fa < fb`), and they reach the Cpu's lazy
 *   fields only at an exit, a fault or a handler call (`fo !== 0` says they are pending).
 * - **Modeled time** is a local `cy` in ticks (integers, cost.ts `TICKS_PER_CYCLE`). The ticks of
 *   the instructions known at translation time are summed there and added at once, before
 *   anything reads `cy` (a slow memory path, a handler call, an exit) and at the end of an
 *   iteration: integer sums are exact in any order, so the count is the interpreter's. (With
 *   cycles as floats this was one dependent add per instruction, about 20% of cpubound's time.)
 * - Forms without a translation (and every form whose operands the specialised handlers of
 *   exec/fast.ts do not cover) call their handler, with the state synchronised around the call.
 *
 * The function has exactly the contract of {@link Block.run}: it runs the block (repeatedly when
 * it loops, while the budget `left` allows), ends after an instruction whose store dropped the
 * block itself (`B.dead`: a store into other cached code only drops that code) and at side exits, and on a fault leaves the faulting instruction's
 * index in `c.blockFault` and earlier iterations' count in `c.blockDone`, with every register,
 * flag and the cycle counter as they were before that instruction (each instruction's memory
 * accesses precede its writes to locals). Guest data never enters the source text: only
 * decoded operand numbers, immediates and addresses, all as numeric literals.
 * @module
 */
import { formName } from "@xmc/x86-decode";
import { CONDITION_CODES, type Cpu, LF } from "../cpu.ts";
import { ea } from "../ops.ts";
import { K, type Uop } from "../uop.ts";
import { type Block, compileBlock, type RunFn } from "./block.ts";
import { EXTEND, mnemonic } from "./fast.ts";

const TWO32 = 4294967296;
const ADDR_LIMIT = 2 ** 47;

/** The static knowledge of the lazy flags at a point of the generated code. */
const CLEAN = 0; // in the Cpu's fields (fo === 0)
const DIRTY = 1; // in the locals, from a producer of kind `fk`, size `fz`
const DYN = 2; // in the locals when fo !== 0, else in the Cpu (the head of a looping block)

const ALU: Record<string, number> = { add: 0, sub: 1, cmp: 2, and: 3, or: 4, xor: 5, test: 6 };
const CCS = CONDITION_CODES;
const CC: Record<string, number> = {};
for (let i = 0; i < 16; i++) CC[CCS[i]!] = i;
const NOPS = new Set(["nop", "nop_Ev", "endbr64", "endbr32", "pause"]);

/** Put pending flags in the Cpu (the helper computes an ADD/SUB result, which producers leave out). */
const FLUSH = "fl(c, fo, fs, fa, fah, fb, fbh, fr, frh, fc);";

/**
 * The Cpu's lazy-flag fields from the generated code's locals. An ADD or SUB records only its
 * operands (a CMP needs no result); the result the flag computation reads is computed here.
 */
function flushLazy(
  c: Cpu,
  fo: LF,
  fs: number,
  fa: number,
  fah: number,
  fb: number,
  fbh: number,
  fr: number,
  frh: number,
  fc: number,
): void {
  if (fo === LF.Add || fo === LF.Sub) {
    const add = fo === LF.Add;
    if (fs === 8) {
      fr = add ? (fa + fb) | 0 : (fa - fb) | 0;
      frh = add
        ? (fah + fbh + ((fa >>> 0) + (fb >>> 0) > 0xffffffff ? 1 : 0)) | 0
        : (fah - fbh - (fa >>> 0 < fb >>> 0 ? 1 : 0)) | 0;
    } else {
      fr = add ? fa + fb : fa - fb;
      fr = fs === 4 ? fr | 0 : fr & (fs === 1 ? 0xff : 0xffff);
    }
  }
  c.lfOp = fo;
  c.lfSize = fs;
  c.lfA = fa;
  c.lfAh = fah;
  c.lfB = fb;
  c.lfBh = fbh;
  c.lfR = fr;
  c.lfRh = frh;
  c.lfC = fc;
}

/** Generator state for one block. */
class Gen {
  /** Registers read or written (bit r), and written. */
  used = 0;
  dirty = 0;
  /** Flag knowledge. */
  fstate = CLEAN;
  fk: LF = LF.None;
  fz = 4;
  names: string[] = [];
  values: unknown[] = [];
  /** Addresses (by name) that also exist as int32 halves (`addr`), with their uop's index. */
  ints = new Map<string, number>();
  tmp = 0;
  /** A fresh temporary name. */
  t(): string {
    return `t${this.tmp++}`;
  }
  lo(r: number): string {
    this.used |= 1 << r;
    return `a${r}`;
  }
  hi(r: number): string {
    this.used |= 1 << r;
    return `h${r}`;
  }
  wr(r: number): void {
    this.used |= 1 << r;
    this.dirty |= 1 << r;
  }
  /** Bind a JS value as a closure parameter. */
  bind(name: string, v: unknown): string {
    if (!this.names.includes(name)) {
      this.names.push(name);
      this.values.push(v);
    }
    return name;
  }
  /** Statements that write registers back (placeholder, filled once the dirty set is known). */
  readonly SYNC = "/*SYNC*/";
  readonly LOAD = "/*LOAD*/";

  /** Code that puts the pending flags in the Cpu (and marks them clean). */
  flushFlags(): string {
    if (this.fstate === CLEAN) return "";
    const s = this.fstate === DIRTY ? `${FLUSH} fo = 0;` : `if (fo !== 0) { ${FLUSH} fo = 0; }`;
    this.fstate = CLEAN;
    return s;
  }
  /** The same at an exit (no need to clear fo). */
  exitFlags(): string {
    if (this.fstate === CLEAN) return "";
    return this.fstate === DIRTY ? FLUSH : `if (fo !== 0) { ${FLUSH} }`;
  }
  /** The current instruction's flags are overwritten before anything can observe them. */
  dead = false;
  /** Record a producer: assignments of the flag locals (none when dead). */
  produce(kind: LF, size: number, fields: string): string {
    if (this.dead) return "";
    this.fstate = DIRTY;
    this.fk = kind;
    this.fz = size;
    return `fo = ${kind}; fs = ${size}; ${fields}`;
  }
  /** Leave the block: count, RIP. */
  exit(count: string, rip: string): string {
    const add = this.pend === 0 ? "" : `cy += ${this.pend}; `;
    return `{ ${this.SYNC} ${this.exitFlags()} ${add}c.ticks = cy; c.rip = ${rip}; return ${count}; }`;
  }
  /**
   * Ticks of the instructions translated since `cy` was last brought up to date: integers, so
   * adding them at once gives the interpreter's sum exactly (cost.ts `TICKS_PER_CYCLE`).
   */
  pend = 0;
  /** Code that adds the pending ticks to `cy`, before anything reads it. */
  flush(): string {
    const s = this.pend === 0 ? "" : `cy += ${this.pend};\n`;
    this.pend = 0;
    return s;
  }

  /**
   * Condition `cc`: [statements before, boolean expression]. From the producer's locals when
   * known (as Cpu.cond computes it), else from the Cpu.
   */
  cond(cc: number): [string, string] {
    const k = cc >> 1;
    const neg = (e: string): string => (cc & 1 ? `!(${e})` : `(${e})`);
    if (this.fstate === DIRTY) {
      const z = this.fz;
      const sh = 32 - 8 * z;
      const op = this.fk;
      const [lo, hi] = this.result();
      const zf = z === 8 ? `((${lo} | ${hi}) === 0)` : z === 4 ? `(${lo} === 0)` : `((${lo} << ${sh}) === 0)`;
      const sf = z === 8 ? `(${hi} < 0)` : z === 4 ? `(${lo} < 0)` : `((${lo} << ${sh}) < 0)`;
      let e: string | undefined;
      if (op === LF.Sub) {
        if (z === 8) {
          // Branch-free (`|`, `&` on comparisons; and `(a < b) | 0` for a carry, not `? 1 : 0`,
          // which V8 compiles to a branch: about 18% on the cpubound checksum loop, whose carries
          // are random): every comparison runs on every pass, so V8 has
          // seen each one before it optimizes (a `&&` whose right side first runs at the loop's
          // exit deoptimized the translated loop there, and the function never recovered).
          if (k === 1) e = "((fah >>> 0 < fbh >>> 0) | ((fah === fbh) & (fa >>> 0 < fb >>> 0)))";
          else if (k === 2) e = "(((fa ^ fb) | (fah ^ fbh)) === 0)";
          else if (k === 3) e = "((fah >>> 0 < fbh >>> 0) | ((fah === fbh) & (fa >>> 0 <= fb >>> 0)))";
          else if (k === 4) e = sf;
          else if (k === 6) e = "((fah < fbh) | ((fah === fbh) & (fa >>> 0 < fb >>> 0)))";
          else if (k === 7) e = "((fah < fbh) | ((fah === fbh) & (fa >>> 0 <= fb >>> 0)))";
        } else {
          const A = z === 4 ? "fa" : `(fa << ${sh})`;
          const B = z === 4 ? "fb" : `(fb << ${sh})`;
          if (k === 1) e = `(${A} >>> 0 < ${B} >>> 0)`;
          else if (k === 2) e = `(${A} === ${B})`;
          else if (k === 3) e = `(${A} >>> 0 <= ${B} >>> 0)`;
          else if (k === 4) e = sf;
          else if (k === 6) e = `(${A} < ${B})`;
          else if (k === 7) e = `(${A} <= ${B})`;
        }
      } else if (op === LF.Logic) {
        if (k === 0 || k === 1) e = "false";
        else if (k === 2 || k === 3) e = zf;
        else if (k === 4 || k === 6) e = sf;
        else if (k === 7) e = `(${zf} | ${sf})`;
      } else if (k === 2) e = zf;
      else if (k === 4) e = sf;
      if (e !== undefined) return ["", neg(e)];
    }
    return [this.flushFlags(), `c.cond(${cc})`];
  }

  /** The pending result's halves as expressions (computed for ADD/SUB, which record operands only). */
  result(): [string, string] {
    const z = this.fz;
    if (this.fk === LF.Sub)
      return z === 8
        ? ["((fa - fb) | 0)", "((fah - fbh - ((fa >>> 0 < fb >>> 0) | 0)) | 0)"]
        : ["((fa - fb) | 0)", "0"];
    if (this.fk === LF.Add)
      return z === 8
        ? ["((fa + fb) | 0)", "((fah + fbh + ((((fa + fb) | 0) >>> 0 < fa >>> 0) | 0)) | 0)"]
        : ["((fa + fb) | 0)", "0"];
    return ["fr", "frh"];
  }

  /** CF (0/1) before an INC/DEC: [statements, expression]. */
  cf(): [string, string] {
    if (this.fstate === DIRTY) {
      const z = this.fz;
      const sh = 32 - 8 * z;
      switch (this.fk) {
        case LF.Logic:
          return ["", "0"];
        case LF.Res:
          return ["", "(fc & 1)"];
        case LF.Inc:
        case LF.Dec:
          return ["", "fc"];
        case LF.Sub:
          if (z === 8) return ["", "((fah >>> 0 < fbh >>> 0) | ((fah === fbh) & (fa >>> 0 < fb >>> 0)))"];
          return ["", `(((fa << ${sh}) >>> 0 < (fb << ${sh}) >>> 0) | 0)`];
        case LF.Add:
          if (z === 8) break;
          return ["", `((((fa + fb) << ${sh}) >>> 0 < (fa << ${sh}) >>> 0) | 0)`];
      }
    }
    return [this.flushFlags(), "c.cf()"];
  }

  /**
   * The memory operand's address of uop `x` (index `k`) into a new temporary: [statements, name].
   * Every value a call returns into a local is typed (`+ea(...)`, `m.read32(a) | 0`): a call's
   * result is of unknown type to V8, and one such input made a register's loop variable a tagged
   * value (a Smi-or-heap-number check and conversion at each use; V8 --print-opt-code,
   * 2026-11-29).
   * As exec/fast.ts `addr`: a RIP-relative constant, base/index summed as doubles when both are
   * within ±2^47 and the result is canonical, anything else through `ea` (with the registers it
   * reads written back first).
   */
  addr(x: Uop, k: number): [string, string] {
    const A = this.t();
    const u = `B.uops[${k}]`;
    const EA = this.bind("ea", ea);
    if (x.mSeg === -1 && x.mAbs >= 0 && x.mAbs < ADDR_LIMIT) return ["", `${x.mAbs}`];
    if (
      x.mSeg !== -1 ||
      x.mAbs >= 0 ||
      x.asize !== 8 ||
      x.mBase < -1 ||
      x.mIndex < -1 ||
      x.mDisp < -2147483648 ||
      x.mDisp > 2147483647
    )
      return [`${SYNCF} const ${A} = ${EA}(c, ${u});`, A];
    const b = x.mBase;
    const i = x.mIndex;
    if (b >= 0 && i < 0) {
      // Base + displacement: the address as int32 halves too (`Al`, `Ah`, with the carry or
      // borrow of the displacement); the accesses compare them with the TLB's int32 tags, and
      // only a miss needs the Number (and the canonical check: a hit is a mapped user page).
      const d = x.mDisp;
      const lo = this.lo(b);
      const hi = this.hi(b);
      const carry =
        d > 0 ? ` + (((${A}l >>> 0) < ${d}) | 0)` : d < 0 ? ` - 1 + (((${A}l >>> 0) < ${d >>> 0}) | 0)` : "";
      const s = `const ${A}l = ${d === 0 ? lo : `(${lo} + ${d}) | 0`}, ${A}h = ${d === 0 ? hi : `(${hi}${carry}) | 0`};\n`;
      this.ints.set(A, k);
      return [`${s}let ${A} = ${A}h * ${TWO32} + (${A}l >>> 0);`, A];
    }
    let sum = `${x.mDisp}`;
    const checks: string[] = [];
    if (b >= 0) {
      sum += ` + (${this.hi(b)} * ${TWO32} + (${this.lo(b)} >>> 0))`;
      checks.push(`(${this.hi(b)} + 0x8000)`);
    }
    if (i >= 0) {
      sum += ` + (${this.hi(i)} * ${TWO32} + (${this.lo(i)} >>> 0)) * ${x.mScale}`;
      checks.push(`(${this.hi(i)} + 0x8000)`);
    }
    // An absolute address: a constant when canonical (a negative one faults in `ea`).
    if (checks.length === 0)
      return x.mDisp >= 0 ? ["", `${x.mDisp}`] : [`${SYNCF} const ${A} = ${EA}(c, ${u});`, A];
    const s =
      `let ${A} = ${sum};\n` +
      `if (!((${checks.join(" | ")}) >>> 16 === 0 && ${A} >= 0 && ${A} < ${ADDR_LIMIT})) { ${SYNCF} ${A} = +${EA}(c, ${u}); }`;
    return [s, A];
  }

  /** [statements, address] of `x`'s memory operand when it has one in operand 0 or 1, else ["", ""]. */
  memOperand(x: Uop, k: number): [string, string] {
    if (x.k0 !== K.Mem && x.k1 !== K.Mem) return ["", ""];
    const [pre, a] = this.addr(x, k);
    return [`${pre}\n`, a];
  }

  /** Read a byte register: expression. */
  getB(r: number, h: number): string {
    return h ? `((${this.lo(r)} >> 8) & 0xff)` : `(${this.lo(r)} & 0xff)`;
  }
  /** Write a byte register: statement. */
  setB(r: number, h: number, v: string): string {
    this.wr(r);
    return h
      ? `a${r} = (a${r} & ~0xff00) | ((${v} & 0xff) << 8);`
      : `a${r} = (a${r} & ~0xff) | (${v} & 0xff);`;
  }
}

/**
 * The body of uop `x` (index `k`) for the forms translated inline, or undefined. `after` is the
 * RIP after it when it is a transfer (set by the code into the local `nr`).
 */
function inline(gen: Gen, x: Uop, k: number, name: string): string | undefined {
  if (NOPS.has(name) && !x.spec) return "";
  if (!x.spec) return undefined;
  const mn = mnemonic(name);
  const alu = ALU[mn];
  if (alu !== undefined) return aluCode(gen, x, k, alu);
  if (mn.startsWith("cmov") && CC[mn.slice(4)] !== undefined) return cmovCode(gen, x, k, CC[mn.slice(4)]!);
  if (mn.startsWith("set") && CC[mn.slice(3)] !== undefined) return setccCode(gen, x, k, CC[mn.slice(3)]!);
  if (EXTEND[mn] !== undefined) return extendCode(gen, x, k, EXTEND[mn]!);
  switch (mn) {
    case "mov":
      return movCode(gen, x, k);
    case "lea":
      return leaCode(gen, x);
    case "inc":
    case "dec":
      return incDecCode(gen, x, mn === "inc");
    case "imul":
      return imulCode(gen, x, k, name !== "imul_Gv_Ev");
    case "shl":
    case "shr":
    case "sar":
      return shiftCode(gen, x, mn);
    case "push": {
      const t = gen.t();
      return `const ${t} = ${gen.lo(x.r0)}, ${t}h = ${gen.hi(x.r0)};\n${push(gen, t, `${t}h`)}`;
    }
    case "pop": {
      const [s, lo, hi] = pop(gen);
      gen.wr(x.r0);
      return `${s}\na${x.r0} = ${lo}; h${x.r0} = ${hi};`;
    }
    default:
      return undefined;
  }
}

/** Push lo:hi (expressions evaluated before): the store first, then RSP. */
function push(gen: Gen, lo: string, hi: string): string {
  const sp = gen.t();
  gen.wr(4);
  return `const ${sp} = (h4 >>> 0) * ${TWO32} + (a4 >>> 0) - 8;\nm.write64(${sp}, ${lo}, ${hi});\na4 = ${sp} | 0; h4 = Math.floor(${sp} / ${TWO32}) | 0;`;
}

/** Pop: [statements, lo name, hi name] (RSP updated). */
function pop(gen: Gen): [string, string, string] {
  const sp = gen.t();
  const v = gen.t();
  gen.wr(4);
  return [
    `const ${sp} = (h4 >>> 0) * ${TWO32} + (a4 >>> 0);\nconst ${v} = m.read64(${sp}), ${v}h = m.hi;\na4 = (${sp} + 8) | 0; h4 = Math.floor((${sp} + 8) / ${TWO32}) | 0;`,
    v,
    `${v}h`,
  ];
}

function aluCode(gen: Gen, x: Uop, k: number, op: number): string | undefined {
  const size = x.s0;
  const write = op !== 2 && op !== 6;
  const kind = op === 0 ? LF.Add : op === 1 || op === 2 ? LF.Sub : LF.Logic;
  const sym = op === 3 || op === 6 ? "&" : op === 4 ? "|" : "^";
  let [s, A] = gen.memOperand(x, k);
  const a = gen.t();
  const b = gen.t();
  const r = gen.t();
  if (size === 1 || size === 2) {
    const M = size === 1 ? "0xff" : "0xffff";
    const rd = size === 1 ? "read8" : "read16";
    const src = (kk: number, rr: number, hh: number): string =>
      kk === K.Gpr
        ? size === 1
          ? gen.getB(rr, hh)
          : `(${gen.lo(rr)} & 0xffff)`
        : kk === K.Mem
          ? `m.${rd}(${A})`
          : `${(x.immLo | 0) & (size === 1 ? 0xff : 0xffff)}`;
    s += `const ${a} = ${src(x.k0, x.r0, x.h0)};\nconst ${b} = ${src(x.k1, x.r1, x.h1)};\n`;
    s +=
      kind === LF.Logic
        ? `const ${r} = ${a} ${sym} ${b};\n`
        : `const ${r} = (${a} ${kind === LF.Add ? "+" : "-"} ${b}) & ${M};\n`;
    if (write) s += x.k0 === K.Mem ? `m.write8(${A}, ${r});\n` : `${gen.setB(x.r0, x.h0, r)}\n`;
    return s + gen.produce(kind, size, kind === LF.Logic ? `fr = ${r};` : `fa = ${a}; fb = ${b};`);
  }
  if (size === 4) {
    const src = (kk: number, rr: number): string =>
      kk === K.Gpr ? gen.lo(rr) : kk === K.Mem ? `m.read32(${A})` : `${x.immLo | 0}`;
    s += `const ${a} = ${src(x.k0, x.r0)};\nconst ${b} = ${src(x.k1, x.r1)};\n`;
    s +=
      kind === LF.Logic
        ? `const ${r} = ${a} ${sym} ${b};\n`
        : `const ${r} = (${a} ${kind === LF.Add ? "+" : "-"} ${b}) | 0;\n`;
    if (write) {
      if (x.k0 === K.Mem) s += `m.write32(${A}, ${r});\n`;
      else {
        gen.wr(x.r0);
        s += `a${x.r0} = ${r}; h${x.r0} = 0;\n`;
      }
    }
    return s + gen.produce(kind, 4, kind === LF.Logic ? `fr = ${r};` : `fa = ${a}; fb = ${b};`);
  }
  // 64 bits.
  const src = (kk: number, rr: number, v: string): string =>
    kk === K.Gpr
      ? `const ${v} = ${gen.lo(rr)}, ${v}h = ${gen.hi(rr)};\n`
      : kk === K.Mem
        ? `const ${v} = m.read64(${A}), ${v}h = m.hi;\n`
        : `const ${v} = ${x.immLo | 0}, ${v}h = ${x.immHi | 0};\n`;
  s += src(x.k0, x.r0, a) + src(x.k1, x.r1, b);
  if (kind === LF.Logic) s += `const ${r} = ${a} ${sym} ${b}, ${r}h = ${a}h ${sym} ${b}h;\n`;
  else if (kind === LF.Add)
    // int32 arithmetic only: the carry out of the low half is `r < a` unsigned.
    s += `const ${r} = (${a} + ${b}) | 0;\nconst ${r}h = (${a}h + ${b}h + ((${r} >>> 0 < ${a} >>> 0) | 0)) | 0;\n`;
  else
    s += `const ${r} = (${a} - ${b}) | 0;\nconst ${r}h = (${a}h - ${b}h - ((${a} >>> 0 < ${b} >>> 0) | 0)) | 0;\n`;
  if (write) {
    if (x.k0 === K.Mem) s += `m.write64(${A}, ${r}, ${r}h);\n`;
    else {
      gen.wr(x.r0);
      s += `a${x.r0} = ${r}; h${x.r0} = ${r}h;\n`;
    }
  }
  return (
    s +
    gen.produce(
      kind,
      8,
      kind === LF.Logic ? `fr = ${r}; frh = ${r}h;` : `fa = ${a}; fah = ${a}h; fb = ${b}; fbh = ${b}h;`,
    )
  );
}

function movCode(gen: Gen, x: Uop, k: number): string | undefined {
  const size = x.s0;
  let [s, A] = gen.memOperand(x, k);
  const LO = x.immLo | 0;
  const HI = x.immHi | 0;
  if (size === 1) {
    if (x.k0 === K.Gpr) {
      const v = x.k1 === K.Gpr ? gen.getB(x.r1, x.h1) : x.k1 === K.Imm ? `${LO}` : `m.read8(${A})`;
      const t = gen.t();
      return `${s}const ${t} = ${v};\n${gen.setB(x.r0, x.h0, t)}`;
    }
    return `${s}m.write8(${A}, ${x.k1 === K.Gpr ? gen.getB(x.r1, x.h1) : LO});`;
  }
  if (x.k0 === K.Gpr) {
    const t = gen.t();
    if (x.k1 === K.Gpr) s += `const ${t} = ${gen.lo(x.r1)}, ${t}h = ${size === 8 ? gen.hi(x.r1) : "0"};\n`;
    else if (x.k1 === K.Imm) s += `const ${t} = ${LO}, ${t}h = ${size === 8 ? HI : 0};\n`;
    else if (size === 8) s += `const ${t} = m.read64(${A}), ${t}h = m.hi;\n`;
    else s += `const ${t} = m.read32(${A}), ${t}h = 0;\n`;
    gen.wr(x.r0);
    return `${s}a${x.r0} = ${t}; h${x.r0} = ${t}h;`;
  }
  if (x.k1 === K.Gpr)
    return size === 8
      ? `${s}m.write64(${A}, ${gen.lo(x.r1)}, ${gen.hi(x.r1)});`
      : `${s}m.write32(${A}, ${gen.lo(x.r1)});`;
  return size === 8 ? `${s}m.write64(${A}, ${LO}, ${HI});` : `${s}m.write32(${A}, ${LO});`;
}

function extendCode(gen: Gen, x: Uop, k: number, signed: boolean): string {
  const from = x.s1;
  const wide = x.s0 === 8;
  const sh = 32 - 8 * from;
  let s = "";
  let v: string;
  if (x.k1 === K.Gpr)
    v = from === 1 ? gen.getB(x.r1, x.h1) : from === 2 ? `(${gen.lo(x.r1)} & 0xffff)` : gen.lo(x.r1);
  else {
    const [pre, A] = gen.addr(x, k);
    v = gen.t();
    s += `${pre}\nconst ${v} = m.${from === 1 ? "read8" : from === 2 ? "read16" : "read32"}(${A});\n`;
  }
  const t = gen.t();
  if (signed) s += `const ${t} = (${v} << ${sh}) >> ${sh};\n`;
  else s += `const ${t} = ${v};\n`;
  gen.wr(x.r0);
  return `${s}a${x.r0} = ${t}; h${x.r0} = ${signed && wide ? `${t} >> 31` : "0"};`;
}

function leaCode(gen: Gen, x: Uop): string {
  const D = x.r0;
  const wide = x.s0 === 8;
  gen.wr(D);
  if (x.mAbs >= 0) return `a${D} = ${x.mAbs | 0}; h${D} = ${wide ? Math.floor(x.mAbs / TWO32) | 0 : 0};`;
  const B = x.mBase;
  const I = x.mIndex;
  const SC = x.mScale;
  const DL = x.mDisp >>> 0;
  const DH = x.mDisp < 0 ? -1 : 0;
  const t = gen.t();
  if (B >= 0 && I >= 0) {
    const b = gen.lo(B);
    const i = gen.lo(I);
    if (!wide) return `a${D} = (${DL} + (${b} >>> 0) + (${i} >>> 0) * ${SC}) | 0; h${D} = 0;`;
    return `const ${t} = ${DL} + (${b} >>> 0) + (${i} >>> 0) * ${SC};\nconst ${t}h = ${DH} + ${gen.hi(B)} + Math.imul(${gen.hi(I)}, ${SC}) + ((${t} * ${1 / TWO32}) | 0);\na${D} = ${t} | 0; h${D} = ${t}h | 0;`;
  }
  if (B >= 0) {
    const b = gen.lo(B);
    if (!wide) return `a${D} = (${DL} + (${b} >>> 0)) | 0; h${D} = 0;`;
    return `const ${t} = ${DL} + (${b} >>> 0);\nconst ${t}h = (${DH} + ${gen.hi(B)} + ((${t} >= ${TWO32}) | 0)) | 0;\na${D} = ${t} | 0; h${D} = ${t}h;`;
  }
  if (I >= 0) {
    const i = gen.lo(I);
    if (!wide) return `a${D} = (${DL} + (${i} >>> 0) * ${SC}) | 0; h${D} = 0;`;
    return `const ${t} = ${DL} + (${i} >>> 0) * ${SC};\nconst ${t}h = (${DH} + Math.imul(${gen.hi(I)}, ${SC}) + ((${t} * ${1 / TWO32}) | 0)) | 0;\na${D} = ${t} | 0; h${D} = ${t}h;`;
  }
  return `a${D} = ${DL | 0}; h${D} = ${wide ? DH : 0};`;
}

function incDecCode(gen: Gen, x: Uop, inc: boolean): string {
  const D = x.r0;
  const [pre, cf] = gen.cf();
  const t = gen.t();
  const op = inc ? LF.Inc : LF.Dec;
  const d = inc ? 1 : -1;
  let s = `${pre}\nconst ${t}c = ${cf};\nconst ${t} = ${gen.lo(D)};\n`;
  gen.wr(D);
  if (x.s0 === 4) {
    s += `const ${t}r = (${t} + ${d}) | 0;\na${D} = ${t}r; h${D} = 0;\n`;
    return s + gen.produce(op, 4, `fa = ${t}; fb = 1; fr = ${t}r; fc = ${t}c;`);
  }
  // The high half carries when the low one wraps: to 0 (INC) or from 0 (DEC).
  const carry = inc ? `(${t}r === 0 ? 1 : 0)` : `(${t} === 0 ? -1 : 0)`;
  s += `const ${t}ah = h${D};\nconst ${t}r = (${t} + ${d}) | 0;\nconst ${t}rh = (${t}ah + ${carry}) | 0;\na${D} = ${t}r; h${D} = ${t}rh;\n`;
  return (
    s + gen.produce(op, 8, `fa = ${t}; fah = ${t}ah; fb = 1; fbh = 0; fr = ${t}r; frh = ${t}rh; fc = ${t}c;`)
  );
}

function imulCode(gen: Gen, x: Uop, k: number, three: boolean): string {
  let s = "";
  let src: string;
  if (x.k1 === K.Mem) {
    const [pre, A] = gen.addr(x, k);
    s += `${pre}\n`;
    src = `m.read32(${A})`;
  } else src = gen.lo(x.r1);
  const t = gen.t();
  s += `const ${t}s = ${src};\nconst ${t}a = ${three ? `${t}s` : gen.lo(x.r0)};\nconst ${t}b = ${three ? `${x.immLo | 0}` : `${t}s`};\n`;
  s += `const ${t}p = ${t}a * ${t}b;\nconst ${t} = Math.imul(${t}a, ${t}b);\n`;
  gen.wr(x.r0);
  s += `a${x.r0} = ${t}; h${x.r0} = 0;\n`;
  return (
    s +
    gen.produce(LF.Res, 4, `fr = ${t}; frh = 0; fc = ${t}p < -2147483648 || ${t}p > 2147483647 ? 0x801 : 0;`)
  );
}

function shiftCode(gen: Gen, x: Uop, kind: string): string {
  const size = x.s0;
  const N = (x.k1 === K.One ? 1 : x.immLo) & (size === 8 ? 63 : 31);
  const D = x.r0;
  if (N === 0) {
    if (size === 8) return "";
    gen.wr(D);
    return `h${D} = 0;`;
  }
  const t = gen.t();
  const lo = gen.lo(D);
  const hi = gen.hi(D);
  gen.wr(D);
  const res = (sz: number, r: string, rh: string, cfof: string): string =>
    gen.produce(LF.Res, sz, `fc = ${cfof}; fr = ${r}; frh = ${rh};`);
  if (size === 4) {
    let s = `const ${t} = ${lo};\n`;
    if (kind === "shl") {
      s += `const ${t}r = ${t} << ${N};\nconst ${t}c = (${t} >>> ${32 - N}) & 1;\na${D} = ${t}r; h${D} = 0;\n`;
      return s + res(4, `${t}r`, "0", `(${t}c ? 1 : 0) | ((${t}r >>> 31) ^ ${t}c ? 0x800 : 0)`);
    }
    if (kind === "shr") {
      s += `const ${t}r = (${t} >>> ${N}) | 0;\na${D} = ${t}r; h${D} = 0;\n`;
      return s + res(4, `${t}r`, "0", `((${t} >>> ${N - 1}) & 1 ? 1 : 0) | (${t} < 0 ? 0x800 : 0)`);
    }
    s += `const ${t}r = ${t} >> ${N};\na${D} = ${t}r; h${D} = 0;\n`;
    return s + res(4, `${t}r`, "0", `(${t} >> ${N - 1}) & 1 ? 1 : 0`);
  }
  let s = `const ${t} = ${lo}, ${t}h = ${hi};\n`;
  if (kind === "shl") {
    if (N < 32)
      s += `const ${t}rh = (${t}h << ${N}) | (${t} >>> ${32 - N}), ${t}r = ${t} << ${N};\nconst ${t}c = (${t}h >>> ${32 - N}) & 1;\n`;
    else
      s += `const ${t}rh = ${N === 32 ? t : `${t} << ${N - 32}`}, ${t}r = 0;\nconst ${t}c = ${N === 32 ? `${t}h & 1` : `(${t} >>> ${64 - N}) & 1`};\n`;
    s += `a${D} = ${t}r; h${D} = ${t}rh;\n`;
    return s + res(8, `${t}r`, `${t}rh`, `(${t}c ? 1 : 0) | ((${t}rh >>> 31) ^ ${t}c ? 0x800 : 0)`);
  }
  if (kind === "shr") {
    if (N < 32) {
      s += `const ${t}r = (${t} >>> ${N}) | (${t}h << ${32 - N}), ${t}rh = (${t}h >>> ${N}) | 0;\n`;
      s += `a${D} = ${t}r; h${D} = ${t}rh;\n`;
      return s + res(8, `${t}r`, `${t}rh`, `((${t} >>> ${N - 1}) & 1 ? 1 : 0) | (${t}h < 0 ? 0x800 : 0)`);
    }
    s += `const ${t}r = ${N === 32 ? `${t}h` : `(${t}h >>> ${N - 32}) | 0`};\nconst ${t}c = ${N === 32 ? `(${t} >>> 31) & 1` : `(${t}h >>> ${N - 33}) & 1`};\n`;
    s += `a${D} = ${t}r; h${D} = 0;\n`;
    return s + res(8, `${t}r`, "0", `(${t}c ? 1 : 0) | (${t}h < 0 ? 0x800 : 0)`);
  }
  if (N < 32) {
    s += `const ${t}r = (${t} >>> ${N}) | (${t}h << ${32 - N}), ${t}rh = ${t}h >> ${N};\n`;
    s += `a${D} = ${t}r; h${D} = ${t}rh;\n`;
    return s + res(8, `${t}r`, `${t}rh`, `(${t} >>> ${N - 1}) & 1 ? 1 : 0`);
  }
  s += `const ${t}r = ${N === 32 ? `${t}h` : `${t}h >> ${N - 32}`};\nconst ${t}c = ${N === 32 ? `(${t} >>> 31) & 1` : `(${t}h >> ${N - 33}) & 1`};\n`;
  s += `a${D} = ${t}r; h${D} = ${t}h >> 31;\n`;
  return s + res(8, `${t}r`, `${t}h >> 31`, `${t}c ? 1 : 0`);
}

function cmovCode(gen: Gen, x: Uop, k: number, cc: number): string {
  const wide = x.s0 === 8;
  const D = x.r0;
  let s = "";
  const t = gen.t();
  if (x.k1 === K.Mem) {
    const [pre, A] = gen.addr(x, k);
    s += `${pre}\n`;
    s += wide ? `const ${t} = m.read64(${A}), ${t}h = m.hi;\n` : `const ${t} = m.read32(${A}), ${t}h = 0;\n`;
  } else s += `const ${t} = ${gen.lo(x.r1)}, ${t}h = ${wide ? gen.hi(x.r1) : "0"};\n`;
  const [pre, e] = gen.cond(cc);
  gen.wr(D);
  const lo = gen.lo(D);
  s += `${pre}\nif (${e}) { a${D} = ${t}; h${D} = ${t}h; }${wide ? "" : ` else h${D} = 0;`}`;
  void lo;
  return s;
}

function setccCode(gen: Gen, x: Uop, k: number, cc: number): string {
  const [pre, e] = gen.cond(cc);
  if (x.k0 === K.Gpr) return `${pre}\n${gen.setB(x.r0, x.h0, `((${e}) | 0)`)}`;
  const [apre, A] = gen.addr(x, k);
  return `${pre}\n${apre}\nm.write8(${A}, (${e}) | 0);`;
}

/**
 * Flag liveness of an instruction: 1 = it may observe the flags (reads them, may fault, calls a
 * handler, may leave the block), 2 = a translated instruction that sets them.
 */
function flagUse(x: Uop, name: string, f: number, last: boolean): number {
  if (last || (f !== 0 && f !== 1)) return 1;
  if (NOPS.has(name) && !x.spec) return 0;
  if (!x.spec) return 1;
  const mn = mnemonic(name);
  const mem = x.k0 === K.Mem || x.k1 === K.Mem;
  if (ALU[mn] !== undefined) return mem ? 3 : 2;
  if (mn === "inc" || mn === "dec") return 3;
  if (mn === "imul") return mem ? 3 : 2;
  if (mn === "shl" || mn === "shr" || mn === "sar") {
    const n = (x.k1 === K.One ? 1 : x.immLo) & (x.s0 === 8 ? 63 : 31);
    return n === 0 ? 0 : 2;
  }
  if (mn === "lea" || (mn === "mov" && !mem) || (EXTEND[mn] !== undefined && !mem)) return 0;
  if (mn === "jmp" && x.k0 === K.Rel) return 0;
  return 1;
}

let mserial = 0;

/**
 * Placeholders for "the whole state into the Cpu" before a call that may throw (a slow memory
 * access, `ea`): registers, pending flags and the cycle counter, as a statement and as the
 * prefix of an expression. The catch handler then reads no local but the instruction index and
 * count: locals the handler reads are materialised at every call that may throw, which boxed
 * the cycle counter and full 32-bit register values (a heap number per loop iteration).
 */
const SYNCF = "/*SYNCF*/";
const SYNCE = "/*SYNCE*/";

/**
 * The memory accesses of an instruction's code with their TLB hit path written out (memory.ts
 * `read32` etc.: tag, offset, entry), the method called only on a miss: a block's function is
 * too large for V8 to inline every accessor call. An address that `Gen.addr` also made as int32
 * halves is looked up with them (integer compares with the int32 tags); its miss path checks
 * that the address is canonical (`ea` faults as the interpreter does) before calling the method.
 */
function inlineMemory(code: string, gen: Gen): string {
  const GET: Record<string, [string, number]> = {
    "8": ["getUint8(o", 4095],
    "16": ["getUint16(o", 4094],
    "32": ["getInt32(o", 4092],
  };
  /** [offset and index, hit condition, miss statement prefix, miss expression prefix]. */
  const tlb = (a: string, o: string, kind: "r" | "w", lim: number): [string, string, string, string] => {
    const k = gen.ints.get(a);
    if (k === undefined)
      return [
        `const ${o} = ${a} & 4095, ${o}x = ((${a} >>> 12) ^ (${a} >>> 20)) & 255;`,
        `${kind}T[${o}x] === ${a} - ${o} && ${o} <= ${lim}`,
        "",
        "",
      ];
    const [al, ah] = [`${a}l`, `${a}h`];
    const ea = `${a} = +ea(c, B.uops[${k}])`;
    return [
      `const ${o} = ${al} & 4095, ${o}x = ((${al} >>> 12) ^ (${al} >>> 20)) & 255;`,
      `${kind}L[${o}x] === (${al} & -4096) && ${kind}H[${o}x] === ${ah} && ${o} <= ${lim}`,
      `if ((${ah} >>> 15) !== 0) { ${SYNCF} ${ea}; } `,
      `(${ah} >>> 15) !== 0 && (${SYNCE}${ea}), `,
    ];
  };
  return code
    .replace(/const (\w+) = m\.read(8|16|32)\((\w+)\)(?=[,;])/g, (_all, v: string, w: string, a: string) => {
      const o = `o${mserial++}`;
      const [get, lim] = GET[w]!;
      const [pre, hit, , missE] = tlb(a, o, "r", lim);
      return `${pre}\nconst ${v} = ${hit} ? rV[${o}x].${get.replace("(o", `(${o}`)}${w === "8" ? "" : ", true"}) : (${missE}${SYNCE}m.read${w}(${a}) | 0)`;
    })
    .replace(
      /const (\w+) = m\.read64\((\w+)\), (\w+) = m\.hi;/g,
      (_all, v: string, a: string, vh: string) => {
        const o = `o${mserial++}`;
        const [pre, hit, miss] = tlb(a, o, "r", 4088);
        return `${pre}\nlet ${v}, ${vh};\nif (${hit}) { const ${o}v = rV[${o}x]; ${vh} = ${o}v.getInt32(${o} + 4, true); ${v} = ${o}v.getInt32(${o}, true); } else { ${miss}${SYNCF} ${v} = m.read64(${a}) | 0; ${vh} = m.hi | 0; }`;
      },
    )
    .replace(/m\.write(8|16|32)\((\w+), ([^;]+)\);/g, (_all, w: string, a: string, val: string) => {
      const o = `o${mserial++}`;
      const [get, lim] = GET[w]!;
      const set = get.replace("get", "set").replace("(o", `(${o}`);
      const v = w === "16" ? `${o}d & 0xffff` : `${o}d`;
      const [pre, hit, miss] = tlb(a, o, "w", lim);
      return `const ${o}d = ${val};\n${pre}\nif (${hit}) wV[${o}x].${set}, ${v}${w === "8" ? "" : ", true"}); else { ${miss}${SYNCF} m.write${w}(${a}, ${o}d); }`;
    })
    .replace(/m\.write64\((\w+), ([^,]+), ([^;]+)\);/g, (_all, a: string, lo: string, hi: string) => {
      const o = `o${mserial++}`;
      const [pre, hit, miss] = tlb(a, o, "w", 4088);
      return `const ${o}l = ${lo}, ${o}h = ${hi};\n${pre}\nif (${hit}) { const ${o}v = wV[${o}x]; ${o}v.setInt32(${o}, ${o}l, true); ${o}v.setInt32(${o} + 4, ${o}h, true); } else { ${miss}${SYNCF} m.write64(${a}, ${o}l, ${o}h); }`;
    });
}

/**
 * Translate block `b` into `b.run` (see {@link Block.run}); false when it got tier 2's handler
 * dispatcher instead (a call that may throw without the state synchronised: a translator bug).
 */
export function translateBlock(b: Block): boolean {
  const gen = new Gen();
  mserial = 0; // (names unique within one function: the same code gives the same source)
  const uops = b.uops;
  const len = b.len;
  gen.fstate = b.loops ? DYN : CLEAN;
  gen.bind("fl", flushLazy);
  // After an instruction that may store: end when the store dropped this block (its own code);
  // a store into other cached code drops that code and lets this block go on.
  b.dead = false;
  // A producer whose flags the next producer overwrites before anything may observe them sets none.
  const use = uops.map((x, k) => flagUse(x, formName(x.form), b.flags[k]!, k === len - 1));
  const dead = use.map((u, k) => {
    if (!(u & 2)) return false;
    for (let j = k + 1; j < len; j++) {
      if (use[j]! & 1) return false;
      if (use[j]! & 2) return true;
    }
    return false;
  });
  let body = "";
  for (let k = 0; k < len; k++) {
    const x = uops[k]!;
    const f = b.flags[k]!;
    const name = formName(x.form);
    const last = k === len - 1;
    const mn = mnemonic(name);
    body += `// ${k}: ${name}\n`;
    // Transfers translated inline (specialised forms only: direct targets, plain RET).
    if (
      x.spec &&
      x.k0 === K.Rel &&
      (mn === "jmp" || mn === "call" || (mn.startsWith("j") && CC[mn.slice(1)] !== undefined))
    ) {
      if (mn === "jmp") {
        gen.pend += x.ticks;
        if (last) body += `rip = ${x.target};\n`;
        continue;
      }
      if (mn === "call") {
        const NLO = x.next | 0;
        const NHI = Math.floor(x.next / TWO32) | 0;
        body += `${gen.flush()}i = ${k};\n${inlineMemory(push(gen, `${NLO}`, `${NHI}`), gen)}\n`;
        gen.pend += x.ticks;
        if (last) body += `rip = ${x.target};\n`;
        else if (f & 2) body += `if (B.dead) ${gen.exit(`n + ${k + 1}`, `${x.target}`)}\n`;
        continue;
      }
      const cc = CC[mn.slice(1)]!;
      const [pre, e] = gen.cond(cc);
      body += `${pre}\n`;
      gen.pend += x.ticks;
      if (last) body += `if (${e}) { cy += tx; rip = ${x.target}; } else rip = ${x.next};\n`;
      else if (b.expect[k] === x.next)
        body += `if (${e}) { cy += tx; ${gen.exit(`n + ${k + 1}`, `${x.target}`)} }\n`;
      else body += `if (!(${e})) ${gen.exit(`n + ${k + 1}`, `${x.next}`)}\ncy += tx;\n`;
      continue;
    }
    if (x.spec && mn === "ret" && x.nops === 0) {
      const [s, lo, hi] = pop(gen);
      body += `${gen.flush()}i = ${k};\n${inlineMemory(s, gen)}\nconst ${lo}t = (${hi} >>> 0) * ${TWO32} + (${lo} >>> 0);\n`;
      gen.pend += x.ticks;
      if (last) body += `rip = ${lo}t;\n`;
      else body += `if (${lo}t !== ${b.expect[k]}) ${gen.exit(`n + ${k + 1}`, `${lo}t`)}\n`;
      continue;
    }
    gen.dead = dead[k]!;
    const raw = inline(gen, x, k, name);
    const code = raw === undefined ? raw : inlineMemory(raw, gen);
    gen.dead = false;
    if (code !== undefined) {
      // Only an instruction that touches memory may throw (the catch reports `i`), and only its
      // slow paths read `cy`: the ticks before it are added first.
      body += /\bm\.|\bea\(/.test(code) ? `${gen.flush()}i = ${k};\n${code}\n` : `${code}\n`;
      gen.pend += x.ticks;
      if (last) body += `rip = ${x.next};\n`;
      else if (f & 2) body += `if (B.dead) ${gen.exit(`n + ${k + 1}`, `${x.next}`)}\n`;
      continue;
    }
    // A handler call: the state in the Cpu around it.
    body += `${gen.flush()}i = ${k};\n${gen.SYNC} ${gen.flushFlags()} c.ticks = cy; c.rip = ${x.next};\nconst u${k} = B.uops[${k}];\nu${k}.fn(c, u${k});\ncy = +c.ticks; ${gen.LOAD}\n`;
    gen.pend += x.ticks;
    if (last) body += "rip = c.rip;\n";
    else {
      if (f & 2) body += `if (B.dead) ${gen.exit(`n + ${k + 1}`, "c.rip")}\n`;
      if (f & 4) body += `if (c.rip !== ${b.expect[k]}) ${gen.exit(`n + ${k + 1}`, "c.rip")}\n`;
    }
  }
  body += gen.flush();
  const regs: number[] = [];
  for (let r = 0; r < 16; r++) if (gen.used & (1 << r)) regs.push(r);
  const dirty = regs.filter((r) => gen.dirty & (1 << r));
  const sync = dirty.map((r) => `R[${2 * r}] = a${r}; R[${2 * r + 1}] = h${r};`).join(" ");
  const load = regs.map((r) => `a${r} = R[${2 * r}]; h${r} = R[${2 * r + 1}];`).join(" ");
  const decl = regs.length
    ? `let ${regs.map((r) => `a${r} = R[${2 * r}], h${r} = R[${2 * r + 1}]`).join(", ")};\n`
    : "";
  const end = b.loops
    ? `n += ${len};\nif (rip !== ${b.head} || n + ${len} > left) ${gen.exit("n", "rip")}\n`
    : `${gen.exit(`${len}`, "rip")}\n`;
  const text =
    `const R = c.regs;\nconst m = c.mem;\nconst rT = m.rTag, rV = m.rView, wT = m.wTag, wV = m.wView, rL = m.rTagLo, rH = m.rTagHi, wL = m.wTagLo, wH = m.wTagHi;\nconst tx = +c.takenTicks;\nlet cy = +c.ticks;\nlet n = 0, i = 0, rip = 0;\n` +
    `let fo = 0, fs = 4, fa = 0, fah = 0, fb = 0, fbh = 0, fr = 0, frh = 0, fc = 0;\n${decl}` +
    `try {\nfor (;;) {\n${body}${end}}\n} catch (e) {\nc.blockFault = i;\nc.blockDone = n;\nthrow e;\n}`;
  // Every call that may throw is a handler call (state synchronised before it) or a slow memory
  // access or `ea` with the state synchronised just before (SYNCF / SYNCE).
  const state = `${sync} if (fo !== 0) { ${FLUSH} } c.ticks = cy;`;
  const stateE = `${dirty.map((r) => `R[${2 * r}] = a${r}, R[${2 * r + 1}] = h${r}, `).join("")}fo !== 0 && fl(c, fo, fs, fa, fah, fb, fbh, fr, frh, fc), c.ticks = cy, `;
  const src = text
    .replaceAll(gen.SYNC, sync)
    .replaceAll(gen.LOAD, load)
    .replaceAll(SYNCF, state)
    .replaceAll(SYNCE, stateE);
  // No call outside those (checked, so that a new form cannot bring back a stale catch).
  const calls = (src.match(/\bm\.(read|write)\d+\(|\bea\(c/g) ?? []).length;
  const synced = (
    text.match(/\/\*SYNC[FE]\*\/ *(const \w+ = |\w+ = \+|\w+ = )?(m\.(read|write)\d+\(|ea\(c)/g) ?? []
  ).length;
  if (calls !== synced) {
    // (A translator bug, never seen: run the block on its handlers instead.)
    compileBlock(b);
    return false;
  }
  // A generated function of decoded operand numbers only: no guest bytes enter the source text.
  b.run = shared(`t_${b.head.toString(16)}`, src, gen);
  return true;
}

/** Translated functions by source (bounded: forgotten all at once when full). */
const SHARED = new Map<string, RunFn>();
const SHARED_MAX = 1024;

/**
 * The one function for source `src`, made once per process: every block (of any machine in the
 * process) whose translation is the same source runs the same JSFunction, so V8 compiles and
 * optimizes it once. The block comes as a parameter (`B`) and the closure binds only module
 * functions (`gen.names`), which is what makes the function shareable. V8 specialises the
 * optimized code of a function made by a closure site that has made only one closure to that
 * closure's context and keeps it from the others: functions made anew per block from a shared
 * factory ran, from a process's second machine on, in the interpreter up to the loop and then in
 * on-stack-replaced code (V8 --trace-osr: 4,131 OSR entries in one run of cpubound 200, 177
 * against 416 MIPS, 2026-11-29).
 */
function shared(id: string, src: string, gen: Gen): RunFn {
  let run = SHARED.get(src);
  if (run === undefined) {
    if (SHARED.size >= SHARED_MAX) SHARED.clear();
    const make = new Function(...gen.names, `return function ${id}(c, B, cache, left) {\n${src}\n};`);
    run = make(...gen.values) as RunFn;
    SHARED.set(src, run);
  }
  return run;
}
