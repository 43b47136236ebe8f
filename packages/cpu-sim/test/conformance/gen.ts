/**
 * Seeded generator of conformance cases for the integer instruction set: every form gets
 * random and edge operands (0, 1, -1, INT_MIN/MAX, shift counts 0/1/size-1/size/…), register
 * and memory forms (base, base+disp8/32, base+index*scale+disp, absolute disp32, RSP/R12 and
 * RBP/R13 bases), operand-size prefixes (66, REX.W), REX.R/X/B registers r8-r15, and the
 * high-byte registers AH-BH next to SPL-DIL. Instructions are encoded here directly (no
 * assembler at test time). Each case carries the mask of flags the SDM leaves undefined.
 * @module
 */
import { CASE_HEAD, DATA_ADDR, DATA_SIZE, MAGIC, VERSION } from "./format.ts";

const CF = 0x1;
const PF = 0x4;
const AF = 0x10;
const ZF = 0x40;
const SF = 0x80;
const DF = 0x400;
const OF = 0x800;
const ARITH = CF | PF | AF | ZF | SF | OF;

/** xoshiro128** (seeded, deterministic). */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    // splitmix32 to spread the seed.
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next() | 1;
  }
  /** A uniformly random unsigned 32-bit integer. */
  u32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 4294967296) * n);
  }
  /** True with probability p. */
  bool(p = 0.5): boolean {
    return this.u32() / 4294967296 < p;
  }
  /** One element of `xs`. */
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Edge values as [lo, hi] int32 halves. */
const EDGES: [number, number][] = [
  [0, 0],
  [1, 0],
  [2, 0],
  [-1, -1],
  [-2, -1],
  [0x7f, 0],
  [0x80, 0],
  [0xff, 0],
  [0x100, 0],
  [0x7fff, 0],
  [0x8000, 0],
  [0xffff, 0],
  [0x10000, 0],
  [0x7fffffff, 0],
  [-0x80000000, 0],
  [-1, 0],
  [0, 1],
  [-1, 0x7fffffff],
  [0, -0x80000000],
  [1, -0x80000000],
  [-0x80000000, -1],
  [0x7fffffff, -1],
  [-0x80, -1],
  [-0x8000, -1],
  [0x55555555, 0x55555555],
  [-0x55555556, -0x55555556],
];

/** A memory operand: base/index GPR (-1 none), scale, displacement and its size. */
export interface Mem {
  base: number;
  index: number;
  scale: number;
  disp: number;
  dsz: 0 | 1 | 4;
  /** 32-bit address size (67 prefix): only the low halves of base and index count. */
  a32?: boolean;
}

/** A register (0-15; 16-19 = AH CH DH BH for byte operands) or a memory operand. */
export type RM = number | Mem;

/** One legacy-encoded instruction. */
export interface Enc {
  /** Legacy prefixes (66 67 F0 F2 F3), in order. */
  pfx?: number[];
  w?: boolean;
  /** Opcode bytes (0F … included). */
  op: number[];
  /** ModRM.reg: a register or an opcode extension; undefined → no ModRM. */
  reg?: number;
  rm?: RM;
  imm?: number[];
  /** Register encoded in the low 3 bits of the last opcode byte (REX.B for 8-15). */
  plusR?: number;
  /** Force a REX prefix (SPL..DIL). */
  rex?: boolean;
}

function le(v: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((v >>> (8 * i)) & 0xff);
  return out;
}

/** ModRM (+SIB, displacement) for `reg` and `rm`; returns the bytes and the REX R/X/B bits. */
function modrm(reg: number, rm: RM): { bytes: number[]; rex: number } {
  let rex = reg >= 8 && reg < 16 ? 4 : 0;
  const r = reg >= 16 ? reg - 12 : reg & 7;
  if (typeof rm === "number") {
    if (rm >= 8 && rm < 16) rex |= 1;
    const m = rm >= 16 ? rm - 12 : rm & 7;
    return { bytes: [0xc0 | (r << 3) | m], rex };
  }
  const ss = rm.scale === 8 ? 3 : rm.scale === 4 ? 2 : rm.scale === 2 ? 1 : 0;
  if (rm.index >= 8) rex |= 2;
  if (rm.base >= 8) rex |= 1;
  if (rm.base < 0) {
    const idx = rm.index < 0 ? 4 : rm.index & 7;
    return { bytes: [(r << 3) | 4, (ss << 6) | (idx << 3) | 5, ...le(rm.disp, 4)], rex };
  }
  let dsz = rm.dsz;
  if (dsz === 0 && (rm.base & 7) === 5) dsz = 1; // RBP/R13 need a displacement
  const mod = dsz === 0 ? 0 : dsz === 1 ? 1 : 2;
  const out: number[] = [];
  if (rm.index >= 0 || (rm.base & 7) === 4) {
    const idx = rm.index < 0 ? 4 : rm.index & 7;
    out.push((mod << 6) | (r << 3) | 4, (ss << 6) | (idx << 3) | (rm.base & 7));
  } else out.push((mod << 6) | (r << 3) | (rm.base & 7));
  if (dsz === 1) out.push(rm.disp & 0xff);
  else if (dsz === 4) out.push(...le(rm.disp, 4));
  return { bytes: out, rex };
}

/** Encode a legacy (non-VEX) instruction. */
export function encode(e: Enc): number[] {
  let rex = e.w ? 8 : 0;
  let tail: number[] = [];
  if (e.reg !== undefined && e.rm !== undefined) {
    const m = modrm(e.reg, e.rm);
    rex |= m.rex;
    tail = m.bytes;
  }
  const op = e.op.slice();
  if (e.plusR !== undefined) {
    op[op.length - 1]! |= e.plusR & 7;
    if (e.plusR >= 8) rex |= 1;
  }
  const out = [...(typeof e.rm === "object" && e.rm.a32 ? [0x67] : []), ...(e.pfx ?? [])];
  if (rex !== 0 || e.rex) out.push(0x40 | rex);
  out.push(...op, ...tail, ...(e.imm ?? []));
  return out;
}

/** Encode a VEX (C4) instruction: map 1=0F 2=0F38 3=0F3A; pp 0=none 1=66 2=F3 3=F2. */
export function encodeVex(
  map: number,
  pp: number,
  w: boolean,
  vvvv: number,
  op: number,
  reg: number,
  rm: RM,
  imm: number[] = [],
): number[] {
  const m = modrm(reg, rm);
  const r = m.rex & 4 ? 0 : 0x80;
  const x = m.rex & 2 ? 0 : 0x40;
  const b = m.rex & 1 ? 0 : 0x20;
  const a32 = typeof rm === "object" && rm.a32 ? [0x67] : [];
  return [...a32, 0xc4, r | x | b | map, (w ? 0x80 : 0) | ((~vvvv & 15) << 3) | pp, op, ...m.bytes, ...imm];
}

/** Per-case generator state. */
export class G {
  readonly rng: Rng;
  /** GPRs as int32 halves. */
  readonly regs: Int32Array = new Int32Array(32);
  flags = 0;
  ovlOff = 0;
  ovlLen = 0;
  readonly ovl: Uint8Array = new Uint8Array(64);
  /** Registers fixed by the current case (not to be used for addressing). */
  fixed = 0;

  constructor(rng: Rng) {
    this.rng = rng;
  }

  /** Start a case: random registers, random status flags (DF rarely). */
  begin(): void {
    for (let r = 0; r < 16; r++) this.randomReg(r);
    const f = this.rng.u32() & ARITH;
    this.flags = f | (this.rng.bool(0.1) ? DF : 0);
    this.ovlLen = 0;
    this.fixed = 0;
  }

  /** A random 64-bit value, often an edge value, as [lo, hi]. */
  value(): [number, number] {
    const rng = this.rng;
    const k = rng.int(10);
    if (k < 3) return rng.pick(EDGES);
    if (k === 3) {
      const v = rng.int(600) - 300;
      return [v, v < 0 ? -1 : 0];
    }
    const lo = rng.u32() | 0;
    const hk = rng.int(4);
    const hi = hk === 0 ? 0 : hk === 1 ? -1 : rng.u32() | 0;
    if (k === 4) return [lo & 0xff, hi]; // small low part under random upper bits
    return [lo, hi];
  }

  randomReg(r: number): void {
    const [lo, hi] = this.value();
    this.regs[2 * r] = lo;
    this.regs[2 * r + 1] = hi;
  }

  set(r: number, lo: number, hi: number): void {
    this.regs[2 * r] = lo | 0;
    this.regs[2 * r + 1] = hi | 0;
    this.fixed |= 1 << r;
  }

  /** Set a register to a non-negative number below 2^53 (addresses). */
  setNum(r: number, v: number): void {
    this.set(r, v % 4294967296, Math.floor(v / 4294967296));
  }

  /** Operand size for a `v` form: 2, 4 or 8. */
  osize(): 2 | 4 | 8 {
    const k = this.rng.int(10);
    return k < 2 ? 2 : k < 6 ? 4 : 8;
  }

  /** Prefixes and REX.W for operand size `s` (1/2/4/8). */
  sizePfx(s: number): { pfx: number[]; w: boolean } {
    return { pfx: s === 2 ? [0x66] : [], w: s === 8 };
  }

  /** A register not in `avoid` (bit mask). */
  reg(avoid = 0, max = 16): number {
    for (;;) {
      const r = this.rng.int(max);
      if (!(avoid & (1 << r))) return r;
    }
  }

  /**
   * A memory operand of `size` bytes inside the data buffer (offset `off`, random when
   * undefined); the overlay there gets fresh random/edge bytes. Registers in `avoid` are not used
   * for addressing; `low` limits base/index to RAX-RDI (no REX).
   */
  mem(size: number, avoid = 0, low = false, off?: number): Mem {
    const rng = this.rng;
    if (off === undefined) {
      off = rng.int(DATA_SIZE - 64);
      if (rng.bool(0.75)) off -= off % Math.min(size, 8);
    }
    const ea = DATA_ADDR + off;
    const max = low ? 8 : 16;
    const k = rng.int(6);
    const av = avoid | this.fixed;
    let m: Mem;
    if (k === 5) m = { base: -1, index: -1, scale: 1, disp: ea, dsz: 4 };
    else {
      const base = this.reg(av, max);
      let index = -1;
      let scale = 1;
      if (k >= 3) {
        index = this.reg(av | (1 << base) | (1 << 4), max);
        scale = rng.pick([1, 2, 4, 8]);
      }
      const dsz: 0 | 1 | 4 = k === 0 || k === 3 ? 0 : k === 1 || k === 4 ? 1 : 4;
      const disp = dsz === 0 ? 0 : dsz === 1 ? rng.int(256) - 128 : rng.int(0x20000) - 0x10000;
      let iv = 0;
      if (index >= 0) {
        // Small, negative (e.g. -8) or large negative index values.
        const kind = rng.int(4);
        iv = kind < 2 ? rng.int(512) : kind === 2 ? -1 - rng.int(512) : -rng.int(0x10000000 / scale);
        this.set(index, iv, iv < 0 ? -1 : 0);
      }
      const bv = ea - disp - iv * scale;
      this.setNum(base, bv);
      m = { base, index, scale, disp, dsz };
      if (rng.bool(0.08)) {
        // 32-bit address size: garbage in the upper halves must not matter.
        m.a32 = true;
        this.set(base, this.regs[2 * base]!, rng.u32());
        if (index >= 0) this.set(index, this.regs[2 * index]!, rng.u32());
      }
    }
    this.overlay(off, 16 + rng.int(49));
    return m;
  }

  /** Fresh random/edge bytes at data offset `off` (clamped into the buffer). */
  overlay(off: number, len: number): void {
    len = Math.min(len, 64);
    if (off + len > DATA_SIZE) off = DATA_SIZE - len;
    this.ovlOff = off;
    this.ovlLen = len;
    for (let i = 0; i < len; i += 8) {
      const [lo, hi] = this.value();
      for (let b = 0; b < 8 && i + b < len; b++)
        this.ovl[i + b] = (b < 4 ? lo >>> (8 * b) : hi >>> (8 * (b - 4))) & 0xff;
    }
  }

  /** The overlay bytes at data offset `off` as [lo, hi] of `size` bytes (must lie in the overlay). */
  memValue(m: Mem, size: number): [number, number] {
    const ea = this.ea(m) - DATA_ADDR - this.ovlOff;
    let lo = 0;
    let hi = 0;
    for (let b = 0; b < size; b++) {
      const v = this.ovl[ea + b]!;
      if (b < 4) lo |= v << (8 * b);
      else hi |= v << (8 * (b - 4));
    }
    return [lo, hi];
  }

  /** Current value of an r/m operand (registers: their whole value; AH..BH: the byte). */
  rmValue(rm: RM, size: number): [number, number] {
    if (typeof rm !== "number") return this.memValue(rm, size);
    if (rm >= 16) return [(this.regs[2 * (rm - 16)]! >> 8) & 0xff, 0];
    return [this.regs[2 * rm]!, this.regs[2 * rm + 1]!];
  }

  /** Effective address of `m` with the current register values. */
  ea(m: Mem): number {
    if (m.base < 0) return m.disp;
    const r = (i: number): number => (this.regs[2 * i + 1]! >>> 0) * 4294967296 + (this.regs[2 * i]! >>> 0);
    return r(m.base) + (m.index >= 0 ? r(m.index) * m.scale : 0) + m.disp;
  }

  /** An r/m operand of `size`: a register (byte registers per `bm`) or memory. */
  rm(size: number, bm: ByteMode, avoid = 0, memP = 0.5): RM {
    if (this.rng.bool(memP)) return this.mem(size, avoid, bm === "legacy");
    return size === 1 ? this.byteReg(bm, avoid) : this.reg(avoid);
  }

  /** Byte register number under mode `bm` (16-19 = AH..BH in legacy mode). */
  byteReg(bm: ByteMode, avoid = 0): number {
    if (bm === "legacy") {
      const r = this.reg(avoid & 0xf, 8);
      return r >= 4 ? r + 12 : r;
    }
    return this.reg(avoid);
  }

  /** Byte-register mode for a byte form. */
  byteMode(): ByteMode {
    return this.rng.bool(0.4) ? "legacy" : "rex";
  }
}

/** Byte registers: "legacy" (no REX; 4-7 are AH CH DH BH) or "rex" (SPL..DIL, R8B..R15B). */
export type ByteMode = "legacy" | "rex";

/** Sink for generated cases. */
export class CaseWriter {
  private buf: Uint8Array = new Uint8Array(1 << 20);
  private dv: DataView = new DataView(this.buf.buffer);
  private pos = 0;
  /** Per case: the generator's form label and the undefined-flags mask. */
  readonly labels: string[] = [];
  readonly undef: number[] = [];
  /** Per case: byte offset of its record in the stream. */
  readonly offsets: number[] = [];

  constructor(base: Uint8Array) {
    this.u32(MAGIC);
    this.u32(VERSION);
    this.bytes(base);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const nb = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    nb.set(this.buf.subarray(0, this.pos));
    this.buf = nb;
    this.dv = new DataView(nb.buffer);
  }
  private u32(v: number): void {
    this.ensure(4);
    this.dv.setUint32(this.pos, v >>> 0, true);
    this.pos += 4;
  }
  private bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Append the case `g` with instruction `code`. */
  add(g: G, code: number[], label: string, undef: number): void {
    if (code.length > 15) throw new Error(`${label}: instruction too long (${code.length})`);
    this.labels.push(label);
    this.undef.push(undef);
    this.offsets.push(this.pos);
    this.ensure(CASE_HEAD + 64);
    const dv = this.dv;
    const p = this.pos;
    this.buf.fill(0, p, p + 16);
    for (let i = 0; i < code.length; i++) this.buf[p + i] = code[i]!;
    dv.setUint32(p + 16, code.length, true);
    dv.setUint32(p + 20, 0, true);
    for (let i = 0; i < 32; i++) dv.setInt32(p + 24 + 4 * i, g.regs[i]!, true);
    dv.setUint32(p + 152, g.flags | 0x202, true);
    dv.setUint32(p + 156, 0, true);
    dv.setUint16(p + 160, g.ovlOff, true);
    dv.setUint16(p + 162, g.ovlLen, true);
    dv.setUint32(p + 164, 0x1f80, true);
    this.pos += CASE_HEAD;
    this.bytes(g.ovl.subarray(0, g.ovlLen));
  }

  /** The stream written so far. */
  stream(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  get count(): number {
    return this.labels.length;
  }
}

// ---- the forms -------------------------------------------------------------------------------

/** A family generator: writes one case per call. */
export interface Family {
  /** Label (a decoder form name, or a family name when the form varies). */
  label: string;
  /** Cases to generate. */
  count: number;
  gen(g: G, w: CaseWriter): void;
}

const ALU_OPS = ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"];
const LOGIC = new Set(["and", "or", "xor", "test"]);
const CC = ["o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"];

function imm(g: G, n: number): number[] {
  const [lo] = g.value();
  return le(lo, n);
}

/** Immediate bytes for Iz at operand size s. */
function iz(g: G, s: number): number[] {
  return imm(g, s === 2 ? 2 : 4);
}

function lockable(g: G, rm: RM): number[] {
  return typeof rm !== "number" && g.rng.bool(0.3) ? [0xf0] : [];
}

/** Families of ModRM forms "op Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev". */
function rmForms(
  label: string,
  opB: number[] | null,
  opV: number[] | null,
  dir: "EG" | "GE",
  undef: number,
  count: number,
  lock = false,
): Family[] {
  const out: Family[] = [];
  if (opB)
    out.push({
      label: `${label}_${dir === "EG" ? "Eb_Gb" : "Gb_Eb"}`,
      count,
      gen(g, w) {
        g.begin();
        const bm = g.byteMode();
        const rm = g.rm(1, bm);
        const reg = g.byteReg(bm);
        const rex = bm === "rex" && (reg >= 4 || (typeof rm === "number" && rm >= 4));
        const pfx = lock && dir === "EG" ? lockable(g, rm) : [];
        w.add(g, encode({ pfx, op: opB, reg, rm, rex }), this.label, undef);
      },
    });
  if (opV)
    out.push({
      label: `${label}_${dir === "EG" ? "Ev_Gv" : "Gv_Ev"}`,
      count: count * 2,
      gen(g, w) {
        g.begin();
        const s = g.osize();
        const rm = g.rm(s, "rex");
        const reg = g.reg();
        const { pfx, w: W } = g.sizePfx(s);
        const lk = lock && dir === "EG" ? lockable(g, rm) : [];
        w.add(g, encode({ pfx: [...lk, ...pfx], w: W, op: opV, reg, rm }), this.label, undef);
      },
    });
  return out;
}

/** Group forms with an opcode extension: Eb / Ev with optional immediate. */
function extForms(
  label: string,
  opB: number[] | null,
  opV: number[] | null,
  ext: number,
  immB: number,
  immV: "z" | "b" | 0,
  undef: number | ((g: G, s: number) => number),
  count: number,
  lock = false,
): Family[] {
  const out: Family[] = [];
  const u = (g: G, s: number): number => (typeof undef === "number" ? undef : undef(g, s));
  if (opB)
    out.push({
      label: `${label}_Eb${immB ? "_Ib" : ""}`,
      count,
      gen(g, w) {
        g.begin();
        const bm = g.byteMode();
        const rm = g.rm(1, bm);
        const rex = bm === "rex" && typeof rm === "number" && rm >= 4;
        const pfx = lock ? lockable(g, rm) : [];
        w.add(
          g,
          encode({ pfx, op: opB, reg: ext, rm, rex, imm: immB ? imm(g, 1) : [] }),
          this.label,
          u(g, 1),
        );
      },
    });
  if (opV)
    out.push({
      label: `${label}_Ev${immV === "z" ? "_Iz" : immV === "b" ? "_Ibs" : ""}`,
      count: count * 2,
      gen(g, w) {
        g.begin();
        const s = g.osize();
        const rm = g.rm(s, "rex");
        const { pfx, w: W } = g.sizePfx(s);
        const lk = lock ? lockable(g, rm) : [];
        const im = immV === "z" ? iz(g, s) : immV === "b" ? imm(g, 1) : [];
        w.add(g, encode({ pfx: [...lk, ...pfx], w: W, op: opV, reg: ext, rm, imm: im }), this.label, u(g, s));
      },
    });
  return out;
}

/** Accumulator-immediate forms AL,Ib and rAX,Iz. */
function accForms(label: string, opB: number, opV: number, undef: number, count: number): Family[] {
  return [
    {
      label: `${label}_AL_Ib`,
      count,
      gen(g, w) {
        g.begin();
        w.add(g, encode({ op: [opB], imm: imm(g, 1) }), this.label, undef);
      },
    },
    {
      label: `${label}_rAX_Iz`,
      count,
      gen(g, w) {
        g.begin();
        const s = g.osize();
        const { pfx, w: W } = g.sizePfx(s);
        w.add(g, encode({ pfx, w: W, op: [opV], imm: iz(g, s) }), this.label, undef);
      },
    },
  ];
}

/** Shift counts worth testing for an operand of `bits` bits. */
function shiftCount(g: G, bits: number): number {
  const rng = g.rng;
  if (rng.bool(0.6))
    return rng.pick([
      0,
      1,
      2,
      bits - 1,
      bits,
      bits + 1,
      7,
      8,
      9,
      15,
      16,
      17,
      31,
      32,
      33,
      63,
      64,
      65,
      255,
      0x80,
      0xe0,
      0x21,
    ]);
  return rng.int(256);
}

/** Undefined flags of a shift/rotate with raw count `cnt`. */
function shiftUndef(op: number, size: number, cnt: number): number {
  const m = cnt & (size === 8 ? 63 : 31);
  if (m === 0) return 0;
  let u = m === 1 ? 0 : OF;
  if (op >= 4) {
    u |= AF;
    if ((op === 4 || op === 5 || op === 6) && m >= size * 8) u |= CF;
  }
  return u;
}

const SHIFT_NAMES = ["rol", "ror", "rcl", "rcr", "shl", "shr", "shl", "sar"];

function shiftFamilies(count: number): Family[] {
  const out: Family[] = [];
  for (let op = 0; op < 8; op++) {
    const name = SHIFT_NAMES[op]!;
    for (const kind of ["Ib", "1", "CL"] as const) {
      for (const byte of [true, false]) {
        out.push({
          label: `${name}_${byte ? "Eb" : "Ev"}_${kind}${op === 6 ? "(/6)" : ""}`,
          count: op === 6 ? count / 4 : byte ? count : count * 2,
          gen(g, w) {
            g.begin();
            const s = byte ? 1 : g.osize();
            const bm = byte ? g.byteMode() : "rex";
            const rm = g.rm(s, bm, 1 << 1);
            const rex = byte && bm === "rex" && typeof rm === "number" && rm >= 4;
            const { pfx, w: W } = g.sizePfx(s);
            let cnt = 1;
            let im: number[] = [];
            if (kind === "Ib") {
              cnt = shiftCount(g, s * 8);
              im = [cnt];
            } else if (kind === "CL") {
              cnt = shiftCount(g, s * 8);
              g.set(1, (g.regs[2]! & ~0xff) | cnt, g.regs[3]!);
            }
            const opc = byte
              ? kind === "Ib"
                ? 0xc0
                : kind === "1"
                  ? 0xd0
                  : 0xd2
              : kind === "Ib"
                ? 0xc1
                : kind === "1"
                  ? 0xd1
                  : 0xd3;
            w.add(
              g,
              encode({ pfx, w: W, op: [opc], reg: op, rm, rex, imm: im }),
              this.label,
              shiftUndef(op, s, cnt),
            );
          },
        });
      }
    }
  }
  // SHLD/SHRD
  for (const [name, base] of [
    ["shld", 0xa4],
    ["shrd", 0xac],
  ] as const) {
    for (const kind of ["Ib", "CL"] as const) {
      out.push({
        label: `${name}_Ev_Gv_${kind}`,
        count: count * 2,
        gen(g, w) {
          g.begin();
          const s = g.osize();
          const rm = g.rm(s, "rex", 1 << 1);
          const reg = g.reg();
          const { pfx, w: W } = g.sizePfx(s);
          let cnt = shiftCount(g, s * 8);
          // 16-bit counts 17-31 leave the result undefined: keep counts the SDM defines.
          if (s === 2 && (cnt & 31) > 16) cnt = (cnt & ~31) | (cnt & 15);
          let im: number[] = [];
          if (kind === "Ib") im = [cnt];
          else if (reg === 1 || (typeof rm === "number" && rm === 1)) {
            const c0 = g.regs[2]! & 0xff;
            if (s === 2 && (c0 & 31) > 16) g.regs[2] = (g.regs[2]! & ~0xff) | (c0 & 0xef);
            cnt = g.regs[2]! & 0xff;
          } else g.set(1, (g.regs[2]! & ~0xff) | cnt, g.regs[3]!);
          const m = cnt & (s === 8 ? 63 : 31);
          const u = m === 0 ? 0 : AF | (m === 1 ? 0 : OF);
          w.add(
            g,
            encode({ pfx, w: W, op: [0x0f, base + (kind === "CL" ? 1 : 0)], reg, rm, imm: im }),
            this.label,
            u,
          );
        },
      });
    }
  }
  return out;
}

/** MUL/IMUL/DIV/IDIV. */
function mulDivFamilies(count: number): Family[] {
  const out: Family[] = [];
  const names = ["mul", "imul", "div", "idiv"];
  for (let k = 0; k < 4; k++) {
    const name = names[k]!;
    const div = k >= 2;
    const signed = k === 1 || k === 3;
    for (const byte of [true, false]) {
      out.push({
        label: `${name}_${byte ? "Eb" : "Ev"}`,
        count: byte ? count : count * 3,
        gen(g, w) {
          g.begin();
          const s = byte ? 1 : g.osize();
          const bm = byte ? g.byteMode() : "rex";
          const rm = g.rm(s, bm, 0b101);
          const rex = byte && bm === "rex" && typeof rm === "number" && rm >= 4;
          if (div && g.rng.bool(0.8)) {
            // Make most divisions defined: high half of the dividend small (or a sign extension).
            const bits = s * 8;
            if (s === 1) {
              const dv = g.rmValue(rm, 1)[0] & 0xff || 1;
              const q = g.rng.int(signed ? 128 : 256);
              const al =
                (signed ? q * ((dv << 24) >> 24) : q * dv) +
                g.rng.int(Math.abs(signed ? (dv << 24) >> 24 : dv) || 1);
              g.regs[0] = (g.regs[0]! & ~0xffff) | (al & 0xffff);
            } else if (signed && g.rng.bool(0.5)) {
              // rDX = sign extension of rAX (CWD/CDQ/CQO), the usual idiom.
              const sgn =
                bits === 64 ? g.regs[1]! >> 31 : bits === 32 ? g.regs[0]! >> 31 : (g.regs[0]! << 16) >> 31;
              if (bits === 16) g.regs[4] = (g.regs[4]! & ~0xffff) | (sgn & 0xffff);
              else if (bits === 32) g.regs[4] = sgn;
              else {
                g.regs[4] = sgn;
                g.regs[5] = sgn;
              }
            } else {
              const small = g.rng.int(4);
              if (bits === 16) g.regs[4] = (g.regs[4]! & ~0xffff) | small;
              else if (bits === 32) g.regs[4] = small;
              else {
                g.regs[4] = small;
                g.regs[5] = 0;
              }
            }
          }
          const { pfx, w: W } = g.sizePfx(s);
          const undef = div ? ARITH : SF | ZF | AF | PF;
          w.add(g, encode({ pfx, w: W, op: [byte ? 0xf6 : 0xf7], reg: 4 + k, rm, rex }), this.label, undef);
        },
      });
    }
  }
  out.push({
    label: "imul_Gv_Ev",
    count: count * 3,
    gen(g, w) {
      g.begin();
      const s = g.osize();
      const { pfx, w: W } = g.sizePfx(s);
      w.add(
        g,
        encode({ pfx, w: W, op: [0x0f, 0xaf], reg: g.reg(), rm: g.rm(s, "rex") }),
        this.label,
        SF | ZF | AF | PF,
      );
    },
  });
  for (const [label, op] of [
    ["imul_Gv_Ev_Iz", 0x69],
    ["imul_Gv_Ev_Ibs", 0x6b],
  ] as const) {
    out.push({
      label,
      count: count * 2,
      gen(g, w) {
        g.begin();
        const s = g.osize();
        const { pfx, w: W } = g.sizePfx(s);
        const im = op === 0x69 ? iz(g, s) : imm(g, 1);
        w.add(
          g,
          encode({ pfx, w: W, op: [op], reg: g.reg(), rm: g.rm(s, "rex"), imm: im }),
          this.label,
          SF | ZF | AF | PF,
        );
      },
    });
  }
  return out;
}

/** BT/BTS/BTR/BTC, BSF/BSR/TZCNT/LZCNT/POPCNT, BSWAP. */
function bitFamilies(count: number): Family[] {
  const out: Family[] = [];
  const bts = ["bt", "bts", "btr", "btc"];
  for (let k = 0; k < 4; k++) {
    const name = bts[k]!;
    out.push({
      label: `${name}_Ev_Gv`,
      count: count * 3,
      gen(g, w) {
        g.begin();
        const s = g.osize();
        const { pfx, w: W } = g.sizePfx(s);
        const reg = g.reg();
        let rm: RM;
        if (g.rng.bool(0.6)) {
          // Memory with a register bit offset reaching ±1 KiB around the operand.
          const off = 1100 + g.rng.int(1800);
          rm = g.mem(s, 1 << reg, false, off - (off % s));
          const bit = g.rng.int(16000) - 8000;
          const lo = s === 2 ? (g.regs[2 * reg]! & ~0xffff) | (bit & 0xffff) : bit;
          const hi = s === 8 ? (bit < 0 ? -1 : 0) : g.regs[2 * reg + 1]!;
          if (rm.base !== reg && rm.index !== reg) g.set(reg, lo, hi);
        } else rm = g.reg();
        const lk = k > 0 && typeof rm !== "number" && g.rng.bool(0.2) ? [0xf0] : [];
        w.add(
          g,
          encode({ pfx: [...lk, ...pfx], w: W, op: [0x0f, 0xa3 + 8 * k], reg, rm }),
          this.label,
          OF | SF | AF | PF,
        );
      },
    });
    out.push({
      label: `${name}_Ev_Ib`,
      count: count * 2,
      gen(g, w) {
        g.begin();
        const s = g.osize();
        const { pfx, w: W } = g.sizePfx(s);
        w.add(
          g,
          encode({ pfx, w: W, op: [0x0f, 0xba], reg: 4 + k, rm: g.rm(s, "rex"), imm: [g.rng.int(256)] }),
          this.label,
          OF | SF | AF | PF,
        );
      },
    });
  }
  const scans: [string, number[], number[], number][] = [
    ["bsf_Gv_Ev", [], [0x0f, 0xbc], CF | OF | SF | AF | PF],
    ["bsr_Gv_Ev", [], [0x0f, 0xbd], CF | OF | SF | AF | PF],
    ["tzcnt_Gv_Ev", [0xf3], [0x0f, 0xbc], OF | SF | AF | PF],
    ["lzcnt_Gv_Ev", [0xf3], [0x0f, 0xbd], OF | SF | AF | PF],
    ["popcnt_Gv_Ev", [0xf3], [0x0f, 0xb8], 0],
  ];
  for (const [label, mp, op, undef] of scans) {
    out.push({
      label,
      count: count * 2,
      gen(g, w) {
        g.begin();
        const s = g.osize();
        const { pfx, w: W } = g.sizePfx(s);
        const reg = g.reg();
        const rm = g.rm(s, "rex", 1 << reg);
        if (typeof rm === "number" && g.rng.bool(0.15)) g.set(rm, 0, 0);
        w.add(g, encode({ pfx: [...pfx, ...mp], w: W, op, reg, rm }), this.label, undef);
      },
    });
  }
  out.push({
    label: "bswap_Zy",
    count,
    gen(g, w) {
      g.begin();
      const wide = g.rng.bool();
      w.add(g, encode({ w: wide, op: [0x0f, 0xc8], plusR: g.reg() }), this.label, 0);
    },
  });
  return out;
}

/** XADD, CMPXCHG, CMPXCHG8B/16B, XCHG. */
function atomicFamilies(count: number): Family[] {
  const out: Family[] = [];
  out.push(...rmForms("xadd", [0x0f, 0xc0], [0x0f, 0xc1], "EG", 0, count, true));
  out.push(...rmForms("xchg", [0x86], [0x87], "EG", 0, count, false));
  for (const byte of [true, false]) {
    out.push({
      label: `cmpxchg_${byte ? "Eb_Gb" : "Ev_Gv"}`,
      count: byte ? count : count * 2,
      gen(g, w) {
        g.begin();
        const s = byte ? 1 : g.osize();
        const bm = byte ? g.byteMode() : "rex";
        const rm = g.rm(s, bm, 1);
        const reg = byte ? g.byteReg(bm) : g.reg();
        const rex = byte && bm === "rex" && (reg >= 4 || (typeof rm === "number" && rm >= 4));
        if (g.rng.bool(0.5)) {
          // Make the comparison succeed: accumulator = destination.
          const v = g.rmValue(rm, s);
          const m = s === 1 ? 0xff : s === 2 ? 0xffff : -1;
          g.regs[0] = (g.regs[0]! & ~m) | (v[0] & m);
          if (s === 8) g.regs[1] = v[1];
        }
        const { pfx, w: W } = g.sizePfx(s);
        const lk = typeof rm !== "number" && g.rng.bool(0.3) ? [0xf0] : [];
        w.add(
          g,
          encode({ pfx: [...lk, ...pfx], w: W, op: [0x0f, byte ? 0xb0 : 0xb1], reg, rm, rex }),
          this.label,
          0,
        );
      },
    });
  }
  for (const wide of [false, true]) {
    out.push({
      label: wide ? "cmpxchg16b_Mdq" : "cmpxchg8b_Mq",
      count,
      gen(g, w) {
        g.begin();
        const n = wide ? 16 : 8;
        let off = 64 + g.rng.int(DATA_SIZE - 256);
        off -= off % (g.rng.bool(0.9) ? n : 1);
        const m = g.mem(n, 0b1111, false, off);
        if (g.rng.bool(0.5)) {
          const lo = g.memValue(m, 8);
          if (wide) {
            g.regs[0] = lo[0];
            g.regs[1] = lo[1];
            const ea = g.ea(m) - DATA_ADDR - g.ovlOff + 8;
            let a = 0;
            let b = 0;
            for (let i = 0; i < 4; i++) a |= g.ovl[ea + i]! << (8 * i);
            for (let i = 0; i < 4; i++) b |= g.ovl[ea + 4 + i]! << (8 * i);
            g.regs[4] = a;
            g.regs[5] = b;
          } else {
            g.regs[0] = lo[0];
            g.regs[4] = lo[1];
          }
        }
        const lk = g.rng.bool(0.5) ? [0xf0] : [];
        w.add(g, encode({ pfx: lk, w: wide, op: [0x0f, 0xc7], reg: 1, rm: m }), this.label, 0);
      },
    });
  }
  out.push({
    label: "xchg_Zv_rAX",
    count,
    gen(g, w) {
      g.begin();
      const s = g.osize();
      const { pfx, w: W } = g.sizePfx(s);
      const r = 1 + g.reg(1, 16);
      w.add(g, encode({ pfx, w: W, op: [0x90], plusR: r === 16 ? 8 : r }), this.label, 0);
    },
  });
  return out;
}

function flip(b: Uint8Array, i: number, m: number): void {
  b[i] = b[i]! ^ m;
}

/** MOVS/STOS/LODS/SCAS/CMPS with and without REP/REPE/REPNE, both directions. */
function stringFamilies(count: number): Family[] {
  const out: Family[] = [];
  const kinds: [string, number, boolean, boolean][] = [
    // name, opcode (byte form), uses RSI, compares
    ["movs", 0xa4, true, false],
    ["cmps", 0xa6, true, true],
    ["stos", 0xaa, false, false],
    ["lods", 0xac, true, false],
    ["scas", 0xae, false, true],
  ];
  for (const [name, opc, usesSi, cmp] of kinds) {
    for (const byte of [true, false]) {
      out.push({
        label: `${name}${byte ? "b" : "v"}`,
        count: byte ? count * 2 : count * 3,
        gen(g, w) {
          g.begin();
          const s = byte ? 1 : g.osize();
          const { pfx, w: W } = g.sizePfx(s);
          const down = g.rng.bool(0.35);
          g.flags = (g.flags & ~DF) | (down ? DF : 0);
          const repK = g.rng.int(4); // 0 none, 1-2 F3, 3 F2
          const rep = repK === 0 ? [] : repK === 3 ? [0xf2] : [0xf3];
          const cnt = g.rng.bool(0.1) ? 0 : g.rng.int(repK === 0 ? 4 : 40);
          const a32 = g.rng.bool(0.1);
          // Regions: compare forms get equal runs (the overlay holds two near-copies).
          const lo = 512 + g.rng.int(DATA_SIZE - 1024 - 64);
          // Start offsets (element aligned); going down, start at the end of each 32-byte half.
          let si = down ? lo + 32 - s : lo;
          let di = cmp && g.rng.bool(0.7) ? si + 32 : 600 + g.rng.int(DATA_SIZE - 1200);
          if (name === "scas") di = down ? lo + 64 - s : lo;
          if (!cmp && !byte && g.rng.bool(0.7)) {
            si -= si % s;
            di -= di % s;
          }
          if (cmp) {
            g.overlay(lo, 64);
            for (let i = 0; i < 32; i++) g.ovl[32 + i] = g.ovl[i]!;
            if (g.rng.bool(0.8)) flip(g.ovl, 32 + g.rng.int(32), 1 << g.rng.int(8));
            if (name === "scas") {
              // SCAS compares rAX with the run at RDI: fill it with rAX's bytes.
              const run = g.rng.bool(0.7);
              for (let i = 0; i < 64; i++) {
                const k = i % s;
                g.ovl[i] = run
                  ? (k < 4 ? g.regs[0]! >>> (8 * k) : g.regs[1]! >>> (8 * (k - 4))) & 0xff
                  : g.ovl[i]!;
              }
              if (g.rng.bool(0.6)) flip(g.ovl, g.rng.int(64), 0x10);
            }
          }
          const siAddr = DATA_ADDR + si;
          const diAddr = DATA_ADDR + di;
          const setA = (r: number, v: number): void => {
            if (a32) g.set(r, v, g.regs[2 * r + 1]!);
            else g.setNum(r, v);
          };
          if (usesSi) setA(6, siAddr);
          setA(7, diAddr);
          if (repK !== 0 || g.rng.bool(0.5)) g.set(1, cnt, a32 ? g.regs[3]! : 0);
          const opb = byte ? opc : opc + 1;
          w.add(g, encode({ pfx: [...(a32 ? [0x67] : []), ...pfx, ...rep], w: W, op: [opb] }), this.label, 0);
        },
      });
    }
  }
  return out;
}

/** Flag instructions, PUSHF/POPF, LAHF/SAHF, ENTER/LEAVE, PUSH/POP, XLAT. */
function flagStackFamilies(count: number): Family[] {
  const out: Family[] = [];
  for (const [label, op] of [
    ["clc", 0xf8],
    ["stc", 0xf9],
    ["cmc", 0xf5],
    ["cld", 0xfc],
    ["std", 0xfd],
    ["lahf", 0x9f],
    ["sahf", 0x9e],
    ["cbtw/cwtl/cltq", 0x98],
    ["cwtd/cltd/cqto", 0x99],
  ] as const) {
    out.push({
      label,
      count: op === 0x98 || op === 0x99 ? count * 2 : count / 2,
      gen(g, w) {
        g.begin();
        const s = op === 0x98 || op === 0x99 ? g.osize() : 4;
        const { pfx, w: W } = g.sizePfx(s);
        w.add(g, encode({ pfx, w: W, op: [op] }), this.label, 0);
      },
    });
  }
  /** RSP into the middle of the data buffer (8-aligned mostly). */
  const stack = (g: G): number => {
    let off = 1024 + g.rng.int(2048);
    if (g.rng.bool(0.9)) off -= off % 8;
    g.overlay(off - 24, 64);
    g.setNum(4, DATA_ADDR + off);
    return off;
  };
  out.push({
    label: "pushf",
    count,
    gen(g, w) {
      g.begin();
      stack(g);
      w.add(g, encode({ pfx: g.rng.bool(0.3) ? [0x66] : [], op: [0x9c] }), this.label, 0);
    },
  });
  out.push({
    label: "popf",
    count,
    gen(g, w) {
      g.begin();
      const off = stack(g);
      // Never set TF (a trap) or AC (alignment checks) from the popped image.
      const i = off - g.ovlOff;
      g.ovl[i + 1]! &= ~0x01;
      g.ovl[i + 2]! &= ~0x04;
      w.add(g, encode({ pfx: g.rng.bool(0.3) ? [0x66] : [], op: [0x9d] }), this.label, 0);
    },
  });
  out.push({
    label: "push_Zv/pop_Zv",
    count,
    gen(g, w) {
      g.begin();
      stack(g);
      const o16 = g.rng.bool(0.2) ? [0x66] : [];
      w.add(g, encode({ pfx: o16, op: [g.rng.bool() ? 0x50 : 0x58], plusR: g.reg() }), this.label, 0);
    },
  });
  out.push({
    label: "push_Ev/pop_Ev",
    count,
    gen(g, w) {
      g.begin();
      const off = stack(g);
      const o16 = g.rng.bool(0.2);
      const m = g.mem(8, 1 << 4, false, off + (g.rng.int(9) - 4) * 8);
      const push = g.rng.bool();
      w.add(
        g,
        encode({ pfx: o16 ? [0x66] : [], op: [push ? 0xff : 0x8f], reg: push ? 6 : 0, rm: m }),
        this.label,
        0,
      );
    },
  });
  out.push({
    label: "push_Iz/push_Ibs",
    count: count / 2,
    gen(g, w) {
      g.begin();
      stack(g);
      const z = g.rng.bool();
      w.add(g, encode({ op: [z ? 0x68 : 0x6a], imm: imm(g, z ? 4 : 1) }), this.label, 0);
    },
  });
  out.push({
    label: "leave",
    count: count / 2,
    gen(g, w) {
      g.begin();
      const off = stack(g);
      g.setNum(5, DATA_ADDR + off + 8 * g.rng.int(4));
      w.add(g, encode({ op: [0xc9] }), this.label, 0);
    },
  });
  out.push({
    label: "enter_Iw_IIb",
    count,
    gen(g, w) {
      g.begin();
      const off = stack(g);
      g.setNum(5, DATA_ADDR + off + 8 * g.rng.int(8));
      const level = g.rng.pick([0, 0, 1, 2, 3, 5]);
      w.add(g, encode({ op: [0xc8], imm: [...le(g.rng.int(512), 2), level] }), this.label, 0);
    },
  });
  out.push({
    label: "pushw/leavew",
    count,
    gen(g, w) {
      g.begin();
      const off = stack(g);
      g.setNum(5, DATA_ADDR + off + 8 * g.rng.int(4));
      const k = g.rng.int(3);
      const code = k === 0 ? [0x66, 0x68, ...imm(g, 2)] : k === 1 ? [0x66, 0x6a, ...imm(g, 1)] : [0x66, 0xc9];
      w.add(g, code, this.label, 0);
    },
  });
  out.push({
    label: "nops",
    count: count / 2,
    gen(g, w) {
      g.begin();
      const k = g.rng.int(6);
      const code =
        k === 0
          ? [0x90]
          : k === 1
            ? encode({ op: [0x0f, 0x1f], reg: 0, rm: g.rm(4, "rex") })
            : k === 2
              ? [0xf3, 0x90]
              : k === 3
                ? [0xf3, 0x0f, 0x1e, 0xfa]
                : k === 4
                  ? encode({ op: [0x0f, 0x18], reg: g.rng.int(4), rm: g.mem(1) })
                  : encode({ op: [0x0f, 0x0d], reg: 1, rm: g.mem(1) });
      w.add(g, code, this.label, 0);
    },
  });
  out.push({
    label: "xlat_XLAT",
    count: count / 2,
    gen(g, w) {
      g.begin();
      g.setNum(3, DATA_ADDR + g.rng.int(DATA_SIZE - 256));
      w.add(g, encode({ op: [0xd7] }), this.label, 0);
    },
  });
  return out;
}

/** MOV forms, MOVZX/MOVSX/MOVSXD, LEA, CMOVcc, SETcc. */
function moveFamilies(count: number): Family[] {
  const out: Family[] = [];
  out.push(...rmForms("mov", [0x88], [0x89], "EG", 0, count / 2));
  out.push(...rmForms("mov", [0x8a], [0x8b], "GE", 0, count / 2));
  out.push(...extForms("mov", [0xc6], [0xc7], 0, 1, "z", 0, count / 2));
  out.push({
    label: "mov_Zv_Iv/movabs",
    count: count / 2,
    gen(g, w) {
      g.begin();
      const s = g.osize();
      const { pfx, w: W } = g.sizePfx(s);
      const im = s === 8 ? [...imm(g, 4), ...imm(g, 4)] : iz(g, s);
      w.add(g, encode({ pfx, w: W, op: [0xb8], plusR: g.reg(), imm: im }), this.label, 0);
    },
  });
  for (const [label, op, srcSize] of [
    ["movzb", [0x0f, 0xb6], 1],
    ["movzw", [0x0f, 0xb7], 2],
    ["movzww/movsww", [0x0f, 0xb7], 2.5],
    ["movsb", [0x0f, 0xbe], 1],
    ["movsw", [0x0f, 0xbf], 2],
    ["movslq", [0x63], 4],
  ] as const) {
    out.push({
      label,
      count: count / 2,
      gen(g, w) {
        g.begin();
        const bm = srcSize === 1 ? g.byteMode() : "rex";
        let s =
          srcSize === 4 ? (g.rng.bool(0.8) ? 8 : 4) : srcSize === 2 ? (g.rng.bool() ? 4 : 8) : g.osize();
        if (bm === "legacy" && s === 8) s = 4;
        const rm = g.rm(srcSize, bm);
        const reg = bm === "legacy" ? g.reg(0, 8) : g.reg();
        const rex = bm === "rex" && typeof rm === "number" && rm >= 4 && srcSize === 1;
        const { pfx, w: W } = g.sizePfx(s);
        const opc = srcSize === 2.5 && g.rng.bool() ? [0x0f, 0xbf] : [...op];
        w.add(g, encode({ pfx, w: W, op: opc, reg, rm, rex }), this.label, 0);
      },
    });
  }
  out.push({
    label: "mov_Zb_Ib",
    count: count / 2,
    gen(g, w) {
      g.begin();
      const bm = g.byteMode();
      const r = g.byteReg(bm);
      const rr = r >= 16 ? r - 12 : r;
      w.add(
        g,
        encode({ op: [0xb0], plusR: rr, rex: bm === "rex" && r >= 4 && r < 8, imm: imm(g, 1) }),
        this.label,
        0,
      );
    },
  });
  out.push({
    label: "mov moffs",
    count: count,
    gen(g, w) {
      g.begin();
      const byte = g.rng.bool(0.3);
      const s = byte ? 1 : g.osize();
      const { pfx, w: W } = g.sizePfx(s);
      const off = g.rng.int(DATA_SIZE - 64);
      g.overlay(off, 16);
      const a32 = g.rng.bool(0.3);
      const addr = le(DATA_ADDR + off, 4);
      const store = g.rng.bool();
      const op = (store ? 0xa2 : 0xa0) + (byte ? 0 : 1);
      w.add(
        g,
        encode({
          pfx: [...(a32 ? [0x67] : []), ...pfx],
          w: W,
          op: [op],
          imm: a32 ? addr : [...addr, 0, 0, 0, 0],
        }),
        this.label,
        0,
      );
    },
  });
  out.push({
    label: "lea_Gv_M",
    count: count / 2,
    gen(g, w) {
      g.begin();
      const s = g.osize();
      const { pfx, w: W } = g.sizePfx(s);
      const m = g.mem(1);
      // Any base/index values: LEA does no access.
      if (m.base >= 0 && g.rng.bool(0.5)) g.randomReg(m.base);
      w.add(g, encode({ pfx, w: W, op: [0x8d], reg: g.reg(), rm: m }), this.label, 0);
    },
  });
  for (let cc = 0; cc < 16; cc++) {
    out.push({
      label: `cmov${CC[cc]}_Gv_Ev`,
      count: count / 4,
      gen(g, w) {
        g.begin();
        const s = g.osize();
        const { pfx, w: W } = g.sizePfx(s);
        w.add(
          g,
          encode({ pfx, w: W, op: [0x0f, 0x40 + cc], reg: g.reg(), rm: g.rm(s, "rex") }),
          this.label,
          0,
        );
      },
    });
    out.push({
      label: `set${CC[cc]}_Eb`,
      count: count / 4,
      gen(g, w) {
        g.begin();
        const bm = g.byteMode();
        const rm = g.rm(1, bm);
        const rex = bm === "rex" && typeof rm === "number" && rm >= 4;
        w.add(g, encode({ op: [0x0f, 0x90 + cc], reg: 0, rm, rex }), this.label, 0);
      },
    });
  }
  return out;
}

/** ALU, TEST, INC/DEC/NEG/NOT. */
function aluFamilies(count: number): Family[] {
  const out: Family[] = [];
  ALU_OPS.forEach((op, i) => {
    const u = LOGIC.has(op) ? AF : 0;
    const lock = op !== "cmp";
    out.push(...rmForms(op, [i * 8], [i * 8 + 1], "EG", u, count, lock));
    out.push(...rmForms(op, [i * 8 + 2], [i * 8 + 3], "GE", u, count));
    out.push(...accForms(op, i * 8 + 4, i * 8 + 5, u, count / 2));
    out.push(...extForms(op, [0x80], [0x81], i, 1, "z", u, count, lock));
    out.push(...extForms(op, null, [0x83], i, 0, "b", u, count / 2, lock));
  });
  out.push(...rmForms("test", [0x84], [0x85], "EG", AF, count));
  out.push(...accForms("test", 0xa8, 0xa9, AF, count / 2));
  out.push(...extForms("test", [0xf6], [0xf7], 0, 1, "z", AF, count));
  out.push(...extForms("inc", [0xfe], [0xff], 0, 0, 0, 0, count, true));
  out.push(...extForms("dec", [0xfe], [0xff], 1, 0, 0, 0, count, true));
  out.push(...extForms("not", [0xf6], [0xf7], 2, 0, 0, 0, count, true));
  out.push(...extForms("neg", [0xf6], [0xf7], 3, 0, 0, 0, count, true));
  return out;
}

/** MOVBE, CRC32, ADCX/ADOX, BMI1/BMI2. */
function extensionFamilies(count: number): Family[] {
  const out: Family[] = [];
  for (const load of [true, false]) {
    out.push({
      label: load ? "movbe_Gv_Mv" : "movbe_Mv_Gv",
      count,
      gen(g, w) {
        g.begin();
        const s = g.osize();
        const { pfx, w: W } = g.sizePfx(s);
        w.add(
          g,
          encode({ pfx, w: W, op: [0x0f, 0x38, load ? 0xf0 : 0xf1], reg: g.reg(), rm: g.mem(s) }),
          this.label,
          0,
        );
      },
    });
  }
  for (const byte of [true, false]) {
    out.push({
      label: byte ? "crc32_Gy_Eb" : "crc32_Gy_Ev",
      count,
      gen(g, w) {
        g.begin();
        const s = byte ? 1 : g.osize();
        const bm = byte ? g.byteMode() : "rex";
        const rm = g.rm(s, bm);
        const wide = s === 8 || (byte && bm === "rex" && g.rng.bool(0.3));
        const reg = bm === "legacy" ? g.reg(0, 8) : g.reg();
        const rex = byte && bm === "rex" && typeof rm === "number" && rm >= 4;
        const pfx = s === 2 ? [0x66, 0xf2] : [0xf2];
        w.add(g, encode({ pfx, w: wide, op: [0x0f, 0x38, byte ? 0xf0 : 0xf1], reg, rm, rex }), this.label, 0);
      },
    });
  }
  for (const [label, mp] of [
    ["adcx_Gy_Ey", 0x66],
    ["adox_Gy_Ey", 0xf3],
  ] as const) {
    out.push({
      label,
      count,
      gen(g, w) {
        g.begin();
        const wide = g.rng.bool();
        w.add(
          g,
          encode({ pfx: [mp], w: wide, op: [0x0f, 0x38, 0xf6], reg: g.reg(), rm: g.rm(wide ? 8 : 4, "rex") }),
          this.label,
          0,
        );
      },
    });
  }
  // VEX forms: [label, map, pp, opcode, ModRM.reg extension or -1, operand order, undefined flags]
  const vex: [string, number, number, number, number, "GBE" | "GEB" | "BE" | "GEI", number][] = [
    ["andn_Gy_By_Ey", 2, 0, 0xf2, -1, "GBE", AF | PF],
    ["bextr_Gy_Ey_By", 2, 0, 0xf7, -1, "GEB", AF | SF | PF],
    ["blsr_By_Ey", 2, 0, 0xf3, 1, "BE", AF | PF],
    ["blsmsk_By_Ey", 2, 0, 0xf3, 2, "BE", AF | PF],
    ["blsi_By_Ey", 2, 0, 0xf3, 3, "BE", AF | PF],
    ["bzhi_Gy_Ey_By", 2, 0, 0xf5, -1, "GEB", AF | PF],
    ["pdep_Gy_By_Ey", 2, 3, 0xf5, -1, "GBE", 0],
    ["pext_Gy_By_Ey", 2, 2, 0xf5, -1, "GBE", 0],
    ["mulx_Gy_By_Ey", 2, 3, 0xf6, -1, "GBE", 0],
    ["shlx_Gy_Ey_By", 2, 1, 0xf7, -1, "GEB", 0],
    ["sarx_Gy_Ey_By", 2, 2, 0xf7, -1, "GEB", 0],
    ["shrx_Gy_Ey_By", 2, 3, 0xf7, -1, "GEB", 0],
    ["rorx_Gy_Ey_Ib", 3, 3, 0xf0, -1, "GEI", 0],
  ];
  for (const [label, map, pp, op, ext, order, undef] of vex) {
    out.push({
      label,
      count: count * 2,
      gen(g, w) {
        g.begin();
        const wide = g.rng.bool();
        const s = wide ? 8 : 4;
        const rm = g.rm(s, "rex");
        const v = g.reg();
        if (label.startsWith("bextr") && g.rng.bool(0.7))
          g.regs[2 * v] = (g.regs[2 * v]! & ~0xffff) | g.rng.int(72) | (g.rng.int(72) << 8);
        if (label.startsWith("bzhi") && g.rng.bool(0.7))
          g.regs[2 * v] = (g.regs[2 * v]! & ~0xff) | g.rng.int(80);
        const reg = ext >= 0 ? ext : g.reg();
        const im = order === "GEI" ? [g.rng.int(256)] : [];
        w.add(g, encodeVex(map, pp, wide, order === "GEI" ? 0 : v, op, reg, rm, im), this.label, undef);
      },
    });
  }
  return out;
}

/** Every family, with case counts scaled so that the total is about `total`. */
export function families(total: number): Family[] {
  const unit = 100;
  const all = [
    ...aluFamilies(unit),
    ...moveFamilies(unit),
    ...shiftFamilies(unit),
    ...mulDivFamilies(unit),
    ...bitFamilies(unit),
    ...atomicFamilies(unit),
    ...stringFamilies(unit),
    ...flagStackFamilies(unit),
    ...extensionFamilies(unit),
  ];
  const sum = all.reduce((a, f) => a + f.count, 0);
  const k = total / sum;
  for (const f of all) f.count = Math.max(50, Math.round(f.count * k));
  return all;
}

/** Generate about `total` cases from `seed`. */
export function generate(
  seed: number,
  total: number,
  filter?: string,
): { writer: CaseWriter; base: Uint8Array } {
  const rng = new Rng(seed);
  const base = new Uint8Array(DATA_SIZE);
  for (let i = 0; i < DATA_SIZE; i += 4) {
    const v = rng.u32();
    base[i] = v & 0xff;
    base[i + 1] = (v >>> 8) & 0xff;
    base[i + 2] = (v >>> 16) & 0xff;
    base[i + 3] = v >>> 24;
  }
  const w = new CaseWriter(base);
  const g = new G(rng);
  for (const f of families(total)) {
    if (filter !== undefined && !f.label.includes(filter)) continue;
    for (let i = 0; i < f.count; i++) f.gen(g, w);
  }
  return { writer: w, base };
}
