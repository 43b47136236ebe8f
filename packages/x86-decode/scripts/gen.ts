/**
 * Table generator: reads `data/*.txt` (format in data/README.md) and writes
 * `src/generated/tables.ts`. `--check` compares instead of writing and exits 1 when stale.
 * Stops with file:line on a malformed or duplicate entry.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Br, F, Fixed, Method, Node, OpMap, Size, Tuple } from "../src/codes.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dataDir = join(root, "data");
const outFile = join(root, "src/generated/tables.ts");

class DataError extends Error {}

const MAPS: Record<string, OpMap> = {
  "1b": OpMap.M1,
  "0f": OpMap.M0F,
  "0f38": OpMap.M0F38,
  "0f3a": OpMap.M0F3A,
  v0f: OpMap.V0F,
  v0f38: OpMap.V0F38,
  v0f3a: OpMap.V0F3A,
  e0f: OpMap.E0F,
  e0f38: OpMap.E0F38,
  e0f3a: OpMap.E0F3A,
  e5: OpMap.E5,
  e6: OpMap.E6,
  x8: OpMap.X8,
  x9: OpMap.X9,
  xa: OpMap.XA,
};

const METHODS: Record<string, Method> = {
  E: Method.E,
  G: Method.G,
  M: Method.M,
  R: Method.R,
  I: Method.I,
  J: Method.J,
  O: Method.O,
  X: Method.X,
  Y: Method.Y,
  A: Method.A,
  B: Method.B,
  C: Method.C,
  D: Method.D,
  S: Method.S,
  N: Method.N,
  P: Method.P,
  Q: Method.Q,
  U: Method.U,
  V: Method.V,
  W: Method.W,
  H: Method.H,
  L: Method.L,
  Z: Method.Z,
  KG: Method.KG,
  KE: Method.KE,
  KR: Method.KR,
  KH: Method.KH,
  MV: Method.MV,
  II: Method.I2,
  BG: Method.BG,
  BR: Method.BR,
  TG: Method.TG,
  TR: Method.TR,
  TH: Method.TH,
};

const SIZES: Record<string, Size> = {
  "": Size.None,
  b: Size.b,
  w: Size.w,
  d: Size.d,
  q: Size.q,
  v: Size.v,
  z: Size.z,
  y: Size.y,
  p: Size.p,
  dq: Size.dq,
  qq: Size.qq,
  oq: Size.oq,
  x: Size.x,
  h: Size.h,
  qv: Size.qv,
  ov: Size.ov,
  t: Size.t,
  s: Size.s,
  ps: Size.ps,
  pd: Size.pd,
  ss: Size.ss,
  sd: Size.sd,
  sh: Size.sh,
  wd: Size.wd,
  fp: Size.fp,
  env: Size.env,
  area: Size.area,
  bs: Size.bs,
  i4: Size.i4,
  sib: Size.sib,
};

const FIXED: Record<string, Fixed> = {
  AL: Fixed.AL,
  CL: Fixed.CL,
  DX: Fixed.DX,
  AX: Fixed.AX,
  rAX: Fixed.rAX,
  eAX: Fixed.eAX,
  ST: Fixed.ST,
  STi: Fixed.STi,
  "1": Fixed.One,
  XMM0: Fixed.XMM0,
  ES: Fixed.ES,
  CS: Fixed.CS,
  SS: Fixed.SS,
  DS: Fixed.DS,
  FS: Fixed.FS,
  GS: Fixed.GS,
  ECX: Fixed.ECX,
  EDX: Fixed.EDX,
  EAX: Fixed.EAX,
  EBX: Fixed.EBX,
  RAXa: Fixed.RAXa,
  XLAT: Fixed.XLAT,
};

const FLAGS: Record<string, number> = {
  lock: F.Lock,
  rep: F.Rep,
  repz: F.Repz,
  bnd: F.Bnd,
  notrack: F.Notrack,
  d64: F.D64,
  f64: F.F64,
  sfx: F.Sfx,
  ser: F.Ser,
  priv: F.Priv,
  ifchg: F.IfChg,
  k: F.K,
  z: F.Zero,
  kreq: F.KReq,
  er: F.Er,
  sae: F.Sae,
  hle: F.Hle,
  b16: F.Bcst16,
  b32: F.Bcst32,
  b64: F.Bcst64,
  "3dnow": F.Amd3dnow,
  xy: F.Xy,
  xyz: F.Xyz,
  rndafter: F.RndAfter,
  keep: F.Keep,
  intelbare: F.IntelBare,
};

const BRANCHES: Record<string, Br> = {
  jmp: Br.Jmp,
  jcc: Br.Jcc,
  call: Br.Call,
  ret: Br.Ret,
  loop: Br.Loop,
  jrcxz: Br.Jrcxz,
  jmpi: Br.JmpInd,
  calli: Br.CallInd,
  jmpf: Br.JmpFar,
  callf: Br.CallFar,
  retf: Br.RetFar,
  int: Br.Int,
  int3: Br.Int3,
  into: Br.Into,
  int1: Br.Int1,
  ud: Br.Ud,
  syscall: Br.Syscall,
  sysret: Br.Sysret,
  iret: Br.Iret,
  hlt: Br.Hlt,
};

const TUPLES: Record<string, Tuple> = {
  fv: Tuple.FV,
  hv: Tuple.HV,
  fvm: Tuple.FVM,
  hvm: Tuple.HVM,
  qvm: Tuple.QVM,
  ovm: Tuple.OVM,
  t1s: Tuple.T1S,
  t1f: Tuple.T1F,
  t2: Tuple.T2,
  t4: Tuple.T4,
  t8: Tuple.T8,
  m128: Tuple.M128,
  dup: Tuple.DUP,
  t1s8: Tuple.T1S8,
  t1s16: Tuple.T1S16,
  t1s32: Tuple.T1S32,
  t1s64: Tuple.T1S64,
  t1f32: Tuple.T1F32,
  t1f64: Tuple.T1F64,
  qv: Tuple.QV,
};

/** Selector dimensions in tree order. `undefined` = wildcard. */
interface Quals {
  prefix?: number; // 0 np, 1 66, 2 f3, 3 f2
  mode?: number; // 0 = 64-bit, 1 = 16/32-bit
  w?: number;
  l?: number;
  mod?: number; // 0 mem, 1 reg
  reg?: number;
  rm?: number;
  osize?: number; // 0 16, 1 32, 2 64
  asize?: number;
}
const DIMS = ["prefix", "mode", "w", "l", "mod", "reg", "rm", "osize", "asize"] as const;
const DIM_NODE: Record<(typeof DIMS)[number], [Node, number]> = {
  prefix: [Node.Prefix, 4],
  mode: [Node.Mode, 2],
  w: [Node.W, 2],
  l: [Node.L, 4],
  mod: [Node.Mod, 2],
  reg: [Node.Reg, 8],
  rm: [Node.Rm, 8],
  osize: [Node.OSize, 3],
  asize: [Node.ASize, 3],
};

interface Entry {
  where: string;
  map: OpMap;
  opcode: number;
  quals: Quals;
  /** Allowed L values for VEX/EVEX when no `l` qualifier (bitmask). */
  lmask: number;
  modrm: boolean;
  att: string;
  intel: string;
  operands: string[];
  flags: number;
  branch: Br;
  tuple: Tuple;
  name: string;
  /** `notag`: objdump never prints `{evex}` on this EVEX form. */
  noTag?: boolean;
}

function parseOperand(tok: string, where: string): { method: Method; size: Size } {
  if (tok in FIXED) return { method: Method.Fixed, size: FIXED[tok] as unknown as Size };
  const m = /^(KG|KE|KR|KH|MV|II|BG|BR|TG|TR|TH|[A-Z])([a-z0-9]*)$/.exec(tok);
  if (!m) throw new DataError(`${where}: bad operand "${tok}"`);
  const method = METHODS[m[1]!];
  const size = SIZES[m[2]!];
  if (method === undefined || size === undefined) throw new DataError(`${where}: bad operand "${tok}"`);
  return { method, size };
}

const MODRM_METHODS = new Set<Method>([
  Method.E,
  Method.G,
  Method.M,
  Method.R,
  Method.C,
  Method.D,
  Method.S,
  Method.N,
  Method.P,
  Method.Q,
  Method.U,
  Method.V,
  Method.W,
  Method.KG,
  Method.KE,
  Method.KR,
  Method.MV,
  Method.BG,
  Method.BR,
  Method.TG,
  Method.TR,
]);

function parseLine(line: string, where: string): Entry[] {
  const [spec, flagPart = ""] = line.split(":");
  const toks = spec!.trim().split(/\s+/);
  const mapTok = toks.shift()!;
  const map = MAPS[mapTok];
  if (map === undefined) throw new DataError(`${where}: unknown map "${mapTok}"`);
  const opTok = toks.shift();
  const om = opTok && /^([0-9a-f]{2})(\+r)?$/.exec(opTok);
  if (!om) throw new DataError(`${where}: bad opcode "${opTok}"`);
  const opcode = Number.parseInt(om[1]!, 16);
  const plusR = !!om[2];
  const quals: Quals = {};
  let modrm = false;
  let lmask = 0;
  const set = <K extends keyof Quals>(k: K, v: number) => {
    if (quals[k] !== undefined && quals[k] !== v) throw new DataError(`${where}: conflicting qualifier ${k}`);
    quals[k] = v;
  };
  // Qualifiers come before the mnemonic; the mnemonic is the first token that is not one.
  while (toks.length > 0) {
    const t = toks[0]!;
    let q: RegExpExecArray | null;
    if ((q = /^\/([0-7])$/.exec(t))) {
      set("reg", +q[1]!);
      modrm = true;
    } else if (t === "/r") modrm = true;
    else if (t === "mem") {
      set("mod", 0);
      modrm = true;
    } else if (t === "reg") {
      set("mod", 1);
      modrm = true;
    } else if ((q = /^rm([0-7])$/.exec(t))) {
      set("rm", +q[1]!);
      set("mod", 1);
      modrm = true;
    } else if ((q = /^=([0-9a-f]{2})$/.exec(t))) {
      const b = Number.parseInt(q[1]!, 16);
      if (b >> 6 !== 3) throw new DataError(`${where}: =XX must be a register-form ModRM`);
      set("mod", 1);
      set("reg", (b >> 3) & 7);
      set("rm", b & 7);
      modrm = true;
    } else if (t === "np") set("prefix", 0);
    else if (t === "66") set("prefix", 1);
    else if (t === "f3") set("prefix", 2);
    else if (t === "f2") set("prefix", 3);
    else if (t === "w0") set("w", 0);
    else if (t === "w1") set("w", 1);
    else if ((q = /^l([0-2])$/.exec(t))) lmask |= 1 << +q[1]!;
    else if (t === "lig") lmask = 0xf;
    else if (t === "o16") set("osize", 0);
    else if (t === "o32") set("osize", 1);
    else if (t === "o64") set("osize", 2);
    else if (t === "a16") set("asize", 0);
    else if (t === "a32") set("asize", 1);
    else if (t === "a64") set("asize", 2);
    else if (t === "i64") set("mode", 1);
    else if (t === "x64") set("mode", 0);
    else break;
    toks.shift();
  }
  const mn = toks.shift();
  // `(bad)`: the encodings this entry selects are invalid (it overrides a less specific form).
  if (
    !mn ||
    (mn !== "(bad)" &&
      !/^(\{vex\})?[a-z0-9][a-z0-9._{}()~-]*(\/(\{vex\})?[a-z0-9][a-z0-9._{}()~-]*)?$/.test(mn))
  )
    throw new DataError(`${where}: bad or missing mnemonic "${mn ?? ""}"`);
  // `{vex}name`: objdump's pseudo-prefix for VEX forms of instructions that also have an EVEX form.
  const [att, intel = att] = mn
    .replace(/\{vex\}/g, "{vex} ")
    .replace(/~/g, " ")
    .split("/") as [string, string?];
  const opsTok = toks.shift();
  if (toks.length > 0)
    throw new DataError(`${where}: unexpected "${toks.join(" ")}" (operands must not contain spaces)`);
  const operands = opsTok ? opsTok.split(",") : [];
  if (operands.length > 5) throw new DataError(`${where}: more than 5 operands`);
  for (const o of operands) {
    const { method } = parseOperand(o, where);
    if (MODRM_METHODS.has(method)) modrm = true;
    if (method === Method.Fixed && o === "STi") modrm = true;
  }
  let flags = 0;
  let branch = Br.None;
  let tuple = Tuple.None;
  let noTag = false;
  for (const f of flagPart.trim().split(/\s+/).filter(Boolean)) {
    if (f in FLAGS) flags |= FLAGS[f]!;
    else if (f in BRANCHES) branch = BRANCHES[f]!;
    else if (f.startsWith("t=") && f.slice(2) in TUPLES) tuple = TUPLES[f.slice(2)]!;
    else if (f === "notag") noTag = true;
    else throw new DataError(`${where}: unknown flag "${f}"`);
  }
  const isVex = (map >= OpMap.V0F && map <= OpMap.V0F3A) || map >= OpMap.X8; // XOP: VEX layout
  const isEvex = map >= OpMap.E0F && map <= OpMap.E6;
  if (lmask === 0) lmask = isVex ? 0b11 : isEvex ? 0b111 : 0;
  if (quals.prefix !== undefined) flags |= [0, F.P66, F.PF3, F.PF2][quals.prefix]!;
  if (quals.osize !== undefined || quals.w !== undefined) flags |= F.OSQ;
  if ((isVex || isEvex) && !operands.some((o) => /^(H|B|KH|TH)/.test(o))) flags |= F.NoVvvv;
  if ((isVex || isEvex) && !modrm && map !== OpMap.V0F)
    throw new DataError(`${where}: VEX/EVEX forms other than map 1 need ModRM`);
  const name = [att, ...operands].join("_").replace(/[^A-Za-z0-9_]/g, "");
  const out: Entry[] = [];
  for (let r = 0; r < (plusR ? 8 : 1); r++) {
    out.push({
      where,
      map,
      opcode: opcode + r,
      quals: { ...quals },
      lmask,
      modrm,
      att,
      intel,
      operands,
      flags,
      branch,
      tuple,
      name,
      noTag,
    });
  }
  return out;
}

function specificity(e: Entry): number {
  let n = 0;
  for (const d of DIMS) if (e.quals[d] !== undefined) n++;
  if (e.lmask !== 0 && e.lmask !== 0xf && e.lmask !== 0b11 && e.lmask !== 0b111) n++;
  return n;
}

/**
 * Length fast-path bits for a legacy opcode whose root is a single form: bit 1 = fast,
 * bits 2-4 = fixed immediate bytes, bit 5 = one z-sized immediate (2/4 by operand size),
 * bit 6 = one v-sized immediate (2/4/8), bit 7 = moffs (address size). 0 = not fast.
 */
function fastInfo(e: Entry): number {
  let fixed = 0;
  let z = 0;
  let v = 0;
  let moffs = 0;
  for (const o of e.operands) {
    const { method, size } = parseOperand(o, e.where);
    if (method === Method.I || method === Method.I2 || method === Method.J) {
      if (size === Size.b || size === Size.bs) fixed += 1;
      else if (size === Size.w) fixed += 2;
      else if (size === Size.d) fixed += 4;
      else if (size === Size.z) z++;
      else if (size === Size.v) v++;
      else return 0;
    } else if (method === Method.O) moffs++;
    else if (
      method === Method.A ||
      method === Method.L ||
      method === Method.S ||
      method === Method.C ||
      method === Method.D
    )
      return 0;
  }
  if (z + v + moffs > 1 || fixed > 7) return 0;
  return 2 | (fixed << 2) | (z << 5) | (v << 6) | (moffs << 7);
}

/**
 * Fast-path info for one legacy opcode under fixed (mode, 66 present, mod class, ModRM.reg):
 * walks the decode tree choosing those, and requires every other choice (W, rm, operand
 * size, address size) to lead to valid forms with the same info and D64/F64 flags.
 * 0 = take the slow path.
 */
function fastFor(ref: number, m64: boolean, has66: boolean, isReg: boolean, reg: number): number {
  const leaves: Entry[] = [];
  const visit = (r: number): boolean => {
    if (r === 0) return false;
    if (r < 0) {
      leaves.push(forms[-1 - r]!);
      return true;
    }
    const kind = nodes[r]! as Node;
    const child = (i: number) => visit(nodes[r + 1 + i]!);
    switch (kind) {
      case Node.Prefix:
        return child(has66 ? 1 : 0);
      case Node.Mode:
        return child(m64 ? 0 : 1);
      case Node.Mod:
        return child(isReg ? 1 : 0);
      case Node.Reg:
        return child(reg);
      case Node.L:
        return false;
      default: {
        const n = kind === Node.Rm ? 8 : kind === Node.OSize || kind === Node.ASize ? 3 : 2;
        for (let i = 0; i < n; i++) {
          if (kind === Node.OSize && i === 2 && !m64) continue; // no 64-bit operand size outside 64-bit mode
          if (kind === Node.ASize && i === 2 && !m64) continue;
          if (kind === Node.ASize && i === 0 && m64) continue;
          if (kind === Node.W && i === 1 && !m64) continue;
          if (!child(i)) return false;
        }
        return true;
      }
    }
  };
  if (!visit(ref)) return 0;
  const info = fastInfo(leaves[0]!);
  const sizeFlags = leaves[0]!.flags & (F.D64 | F.F64);
  for (const e of leaves) if (fastInfo(e) !== info || (e.flags & (F.D64 | F.F64)) !== sizeFlags) return 0;
  if (has66 && info & 0x60 && leaves.some((e) => e.flags & F.P66)) return 0;
  // Memory-only / register-only operands must fit the mod class this entry stands for.
  for (const e of leaves)
    for (const o of e.operands) {
      const { method } = parseOperand(o, e.where);
      if (
        (method === Method.M && isReg) ||
        ((method === Method.R || method === Method.N || method === Method.U) && !isReg)
      )
        return 0;
    }
  return info | (sizeFlags & F.D64 ? 0x100 : 0) | (sizeFlags & F.F64 ? 0x200 : 0);
}

/**
 * VEX length fast path (64-bit mode) for one (map, opcode) under fixed pp, L, W, mod class and
 * "vvvv is 1111": 1 | (imm8 ? 2 : 0) when every encoding there is valid, else 0. Forms whose
 * validity depends on more (mask registers, VSIB, is4) take the slow path.
 */
function fastVex(ref: number, pp: number, L: number, w: number, isReg: boolean, vvvvOnes: boolean): number {
  const leaves: Entry[] = [];
  const visit = (r: number): boolean => {
    if (r === 0) return false;
    if (r < 0) {
      leaves.push(forms[-1 - r]!);
      return true;
    }
    const kind = nodes[r]! as Node;
    const child = (i: number) => visit(nodes[r + 1 + i]!);
    switch (kind) {
      case Node.Prefix:
        return child(pp);
      case Node.Mode:
        return child(0);
      case Node.Mod:
        return child(isReg ? 1 : 0);
      case Node.W:
        return child(w);
      case Node.L:
        return child(L);
      default: {
        const n = kind === Node.Rm || kind === Node.Reg ? 8 : 3;
        for (let i = 0; i < n; i++) {
          if (kind === Node.OSize && i !== (w ? 2 : 1)) continue;
          if (kind === Node.ASize && i === 0) continue;
          if (!child(i)) return false;
        }
        return true;
      }
    }
  };
  if (!visit(ref)) return 0;
  let imm = -1;
  for (const e of leaves) {
    if (e.lmask !== 0xf && !(e.lmask & (1 << L))) return 0;
    if (e.flags & F.NoVvvv && !vvvvOnes) return 0;
    let n = 0;
    for (const o of e.operands) {
      const { method, size } = parseOperand(o, e.where);
      if (method === Method.I) {
        if (size !== Size.b) return 0;
        n++;
      } else if (
        method === Method.KG ||
        method === Method.KH ||
        method === Method.KE ||
        method === Method.KR ||
        method === Method.MV ||
        method === Method.L ||
        method === Method.I2 ||
        method === Method.TG ||
        method === Method.TR ||
        method === Method.TH ||
        size === Size.sib
      )
        return 0;
      else if (method === Method.M && isReg) return 0;
      else if ((method === Method.R || method === Method.U || method === Method.N) && !isReg) return 0;
    }
    if (n > 1) return 0;
    if (imm >= 0 && imm !== n) return 0;
    imm = n;
  }
  return 1 | (imm > 0 ? 2 : 0);
}

// ---- build -------------------------------------------------------------------------------

const entries: Entry[] = [];
for (const file of readdirSync(dataDir)
  .filter((f) => f.endsWith(".txt"))
  .sort()) {
  const lines = readFileSync(join(dataDir, file), "utf8").split("\n");
  lines.forEach((raw, i) => {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) return;
    try {
      entries.push(...parseLine(line, `${file}:${i + 1}`));
    } catch (e) {
      if (e instanceof DataError) {
        process.stderr.write(`gen: ${e.message}\n`);
        process.exit(1);
      }
      throw e;
    }
  });
}

// EVEX forms whose mnemonic also has a VEX encoding at the same map/opcode/prefix (and W):
// objdump marks them `{evex}` when nothing in the encoding needs EVEX.
const method = (o: string) => o.replace(/[a-z0-9]*$/, "").replace("U", "W");
for (const e of entries) {
  if (e.map < OpMap.E0F || e.map > OpMap.E0F3A) continue;
  const vmap = e.map - OpMap.E0F + OpMap.V0F;
  const twin = entries.find(
    (v) =>
      v.map === vmap &&
      v.opcode === e.opcode &&
      v.quals.prefix === e.quals.prefix &&
      v.att === e.att &&
      v.operands.length === e.operands.length &&
      v.operands.every((o, i) => method(o) === method(e.operands[i]!)),
  );
  if (twin && !e.noTag) e.flags |= F.EvexTag;
}

// Interned tables.
const mnemonics = new Map<string, number>();
const intern = (att: string, intel: string) => {
  const k = `${att}/${intel}`;
  let id = mnemonics.get(k);
  if (id === undefined) mnemonics.set(k, (id = mnemonics.size));
  return id;
};
const operandIds = new Map<string, number>([["", 0]]);
const opId = (tok: string, where: string) => {
  let id = operandIds.get(tok);
  if (id === undefined) {
    parseOperand(tok, where);
    operandIds.set(tok, (id = operandIds.size));
  }
  return id;
};

const formIndex = new Map<Entry, number>();
const forms: Entry[] = [];
const formOf = (e: Entry) => {
  let id = formIndex.get(e);
  if (id === undefined) {
    formIndex.set(e, (id = forms.length));
    forms.push(e);
  }
  return id;
};

const nodes: number[] = [0]; // index 0: unused (ref 0 = invalid)

function build(cands: Entry[], dimIndex: number, where: string): number {
  if (cands.length === 0) return 0;
  // Next dimension on which some candidate is qualified.
  for (let d = dimIndex; d < DIMS.length; d++) {
    const dim = DIMS[d]!;
    const lSplit = dim === "l" && cands.some((c) => c.lmask !== 0 && c.lmask !== 0xf);
    if (!lSplit && !cands.some((c) => c.quals[dim] !== undefined)) continue;
    const [kind, n] = DIM_NODE[dim];
    const children: number[] = [];
    for (let v = 0; v < n; v++) {
      const sub = cands.filter((c) => {
        if (dim === "l") return c.lmask === 0 || (c.lmask & (1 << v)) !== 0;
        const q = c.quals[dim];
        return q === undefined || q === v;
      });
      children.push(build(sub, d + 1, where));
    }
    const at = nodes.length;
    nodes.push(kind, ...children);
    return at;
  }
  // Leaf: the most specific candidate wins.
  // Most qualifiers first; on a tie, the one qualified on the earlier dimension (prefix before
  // operand size, and so on) wins.
  const rank = (e: Entry) => {
    let bits = 0;
    DIMS.forEach((d, i) => {
      if (e.quals[d] !== undefined) bits |= 1 << (DIMS.length - i);
    });
    return specificity(e) * 1024 + bits;
  };
  const sorted = [...cands].sort((a, b) => rank(b) - rank(a));
  if (sorted.length > 1 && rank(sorted[0]!) === rank(sorted[1]!)) {
    process.stderr.write(
      `gen: ${sorted[0]!.where} and ${sorted[1]!.where} select the same encoding (${where})\n`,
    );
    process.exit(1);
  }
  if (sorted[0]!.att === "(bad)") return 0;
  return -1 - formOf(sorted[0]!);
}

const roots = new Int32Array(OpMap.Count * 256);
/** Legacy maps only: (map*256+opcode) << 6 | (not 64-bit) << 5 | (66) << 4 | (mod==3) << 3 | reg. */
const fastTable = new Uint16Array(4 * 256 * 64);
/** VEX maps 1-3: ((map-1)*256+opcode) << 6 | pp << 4 | L << 3 | W << 2 | (mod==3) << 1 | (vvvv==1111). */
const vexTable = new Uint8Array(3 * 256 * 64);
const lengthInfo = new Uint8Array(OpMap.Count * 256);
for (let map = 0; map < OpMap.Count; map++) {
  for (let op = 0; op < 256; op++) {
    const cands = entries.filter((e) => e.map === map && e.opcode === op);
    if (cands.length === 0) continue;
    const modrm = cands[0]!.modrm;
    const mixed = cands.find((c) => c.modrm !== modrm);
    if (mixed) {
      process.stderr.write(`gen: ${cands[0]!.where} and ${mixed.where}: one opcode with and without ModRM\n`);
      process.exit(1);
    }
    const root = build(cands, 0, `map ${map} opcode ${op.toString(16)}`);
    roots[map * 256 + op] = root;
    lengthInfo[map * 256 + op] = modrm ? 1 : 0;
    if (map >= OpMap.V0F && map <= OpMap.V0F3A) {
      for (let combo = 0; combo < 64; combo++) {
        const pp = combo >> 4;
        const L = (combo >> 3) & 1;
        const w = (combo >> 2) & 1;
        const isReg = (combo & 2) !== 0;
        const ones = (combo & 1) !== 0;
        vexTable[(((map - OpMap.V0F) * 256 + op) << 6) | combo] = fastVex(root, pp, L, w, isReg, ones);
      }
    }
    if (map <= OpMap.M0F3A) {
      for (let combo = 0; combo < 64; combo++) {
        const m64 = (combo & 32) === 0;
        const has66 = (combo & 16) !== 0;
        const isReg = (combo & 8) !== 0;
        const reg = combo & 7;
        fastTable[((map * 256 + op) << 6) | combo] = fastFor(root, m64, has66, isReg, reg);
      }
    }
  }
}

// Validate operand tokens and intern.
const formOps: number[] = [];
for (const f of forms) {
  for (let i = 0; i < 5; i++) formOps.push(i < f.operands.length ? opId(f.operands[i]!, f.where) : 0);
}

const formMnemonics = forms.map((f) => intern(f.att, f.intel));
const opList = [...operandIds.keys()];
const methods = opList.map((t) => (t === "" ? 0 : parseOperand(t, "?").method));
const sizes = opList.map((t) => (t === "" ? 0 : (parseOperand(t, "?").size as number)));
const mnList = [...mnemonics.keys()].map((k) => k.split("/") as [string, string]);

const hex = (a: ArrayLike<number>) => Array.from(a).join(",");
const out = `// GENERATED by scripts/gen.ts from data/*.txt — do not edit; run \`pnpm gen\`.
// ${entries.length} encodings, ${forms.length} forms, ${mnList.length} mnemonics, ${nodes.length} tree cells.
/* biome-ignore-all format: generated */

/** AT&T mnemonic per mnemonic id. */
export const MNEMONIC_ATT: readonly string[] = ${JSON.stringify(mnList.map((m) => m[0]))};
/** Intel mnemonic per mnemonic id. */
export const MNEMONIC_INTEL: readonly string[] = ${JSON.stringify(mnList.map((m) => m[1]))};
/** Form names (\`mnemonic_operands\`), linking data, handlers and tests. */
export const FORM_NAME: readonly string[] = ${JSON.stringify(forms.map((f) => f.name))};
/** Mnemonic id per form. */
export const FORM_MNEMONIC: Uint16Array = new Uint16Array([${hex(formMnemonics)}]);
/** Flags (codes.ts F) per form. */
export const FORM_FLAGS: Uint32Array = new Uint32Array([${hex(forms.map((f) => f.flags >>> 0))}]);
/** Branch kind (codes.ts Br) per form. */
export const FORM_BRANCH: Uint8Array = new Uint8Array([${hex(forms.map((f) => f.branch))}]);
/** EVEX tuple type per form. */
export const FORM_TUPLE: Uint8Array = new Uint8Array([${hex(forms.map((f) => f.tuple))}]);
/** Allowed VEX/EVEX L values per form (bit i = L i). */
export const FORM_LMASK: Uint8Array = new Uint8Array([${hex(forms.map((f) => f.lmask))}]);
/** Five operand ids per form (0 = none). */
export const FORM_OPS: Uint8Array = new Uint8Array([${hex(formOps)}]);
/** Method (codes.ts Method) per operand id. */
export const OPERAND_METHOD: Uint8Array = new Uint8Array([${hex(methods)}]);
/** Size (codes.ts Size, or Fixed for fixed operands) per operand id. */
export const OPERAND_SIZE: Uint8Array = new Uint8Array([${hex(sizes)}]);
/** Decode tree: [kind, child refs...]; ref > 0 node, ref < 0 form -1-ref, 0 invalid. */
export const NODES: Int32Array = new Int32Array([${hex(nodes)}]);
/** Root ref per (map * 256 + opcode). */
export const ROOTS: Int32Array = new Int32Array([${hex(roots)}]);
/** Length fast path per (legacy map*256+opcode)<<6 | (not 64-bit)<<5 | (66)<<4 | (mod==3)<<3 | ModRM.reg: fastInfo bits, 0x100 D64, 0x200 F64; 0 = slow path. */
export const FAST_LENGTH: Uint16Array = new Uint16Array([${hex(fastTable)}]);
/** VEX length fast path (64-bit): ((map-1)*256+opcode)<<6 | pp<<4 | L<<3 | W<<2 | (mod==3)<<1 | (vvvv==1111): 1 | imm8<<1, 0 = slow. */
export const FAST_VEX: Uint8Array = new Uint8Array([${hex(vexTable)}]);
/** Bit 0: opcode has ModRM; bits 1-7: length fast-path info (see gen.ts fastInfo). Per (map * 256 + opcode). */
export const OPCODE_INFO: Uint8Array = new Uint8Array([${hex(lengthInfo)}]);
`;

if (process.argv.includes("--check")) {
  let cur = "";
  try {
    cur = readFileSync(outFile, "utf8");
  } catch {}
  if (cur !== out) {
    process.stderr.write(
      "gen:check: src/generated/tables.ts is stale; run `pnpm gen` in packages/x86-decode\n",
    );
    process.exit(1);
  }
  process.stdout.write("gen:check: generated tables are up to date\n");
} else {
  writeFileSync(outFile, out);
  process.stdout.write(`gen: wrote ${outFile} (${forms.length} forms)\n`);
}
