/**
 * Re-baseline command for the decoder's test vectors: walks the generated decode tree, builds
 * at least one encoding for every leaf (every opcode-map entry: register and memory forms where
 * both exist; 32-bit-only forms in 32-bit mode), and asks GNU objdump for its length, AT&T text
 * and Intel text. Writes test/vectors/decode64.txt and decode32.txt. The expected values come
 * from objdump, never from our decoder.
 *
 *   npx tsx scripts/vectors.ts        (needs `as` and `objdump`)
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { F, Method, Node, OpMap, Size } from "../src/codes.ts";
import {
  FORM_FLAGS,
  FORM_LMASK,
  FORM_NAME,
  FORM_OPS,
  NODES,
  OPCODE_INFO,
  OPERAND_METHOD,
  OPERAND_SIZE,
  ROOTS,
} from "../src/generated/tables.ts";

interface Path {
  prefix?: number;
  mode?: number;
  w?: number;
  l?: number;
  mod?: number;
  reg?: number;
  rm?: number;
  osize?: number;
  asize?: number;
}

interface Vector {
  mode: 32 | 64;
  bytes: number[];
  form: string;
}

const DIM: Record<number, keyof Path> = {
  [Node.Prefix]: "prefix",
  [Node.Mode]: "mode",
  [Node.W]: "w",
  [Node.L]: "l",
  [Node.Mod]: "mod",
  [Node.Reg]: "reg",
  [Node.Rm]: "rm",
  [Node.OSize]: "osize",
  [Node.ASize]: "asize",
};
const ARITY: Record<number, number> = { 1: 4, 2: 2, 3: 2, 4: 4, 5: 2, 6: 8, 7: 8, 8: 3, 9: 3 };

function walk(ref: number, path: Path, out: (form: number, path: Path) => void): void {
  if (ref === 0) return;
  if (ref < 0) {
    out(-1 - ref, path);
    return;
  }
  const kind = NODES[ref]!;
  const dim = DIM[kind]!;
  const n = ARITY[kind]!;
  // Collapse identical children so one vector covers them (but keep every distinct leaf).
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    const child = NODES[ref + 1 + i]!;
    if (child === 0) continue;
    if (child < 0 && seen.has(child) && dim !== "mode") continue;
    seen.add(child);
    walk(child, { ...path, [dim]: i }, out);
  }
}

function operands(form: number): { method: number; size: number }[] {
  const r: { method: number; size: number }[] = [];
  for (let k = 0; k < 5; k++) {
    const id = FORM_OPS[form * 5 + k]!;
    if (id === 0) break;
    r.push({ method: OPERAND_METHOD[id]!, size: OPERAND_SIZE[id]! });
  }
  return r;
}

function immBytes(form: number, mode: 32 | 64, osize: number, asize: number): number[] {
  const out: number[] = [];
  let fill = 0x11;
  const push = (n: number) => {
    for (let i = 0; i < n; i++) {
      out.push(fill & 0xff);
      fill += 0x11;
    }
  };
  const flags = FORM_FLAGS[form]!;
  for (const { method, size } of operands(form)) {
    if (method === Method.I || method === Method.I2) {
      if (size === Size.i4) continue; // in the is4 byte
      if (size === Size.b || size === Size.bs) push(1);
      else if (size === Size.w) push(2);
      else if (size === Size.d) push(4);
      else if (size === Size.z) push(osize === 16 ? 2 : 4);
      else if (size === Size.v) push(osize >> 3);
      else push(8);
    } else if (method === Method.J) {
      if (size === Size.b) out.push(0x10);
      else if (mode === 64 && flags & F.F64) out.push(0x10, 0, 0, 0);
      else if (osize === 16) out.push(0x10, 0);
      else out.push(0x10, 0, 0, 0);
    } else if (method === Method.O) push(asize >> 3);
    else if (method === Method.A) push(osize === 16 ? 4 : 6);
    else if (method === Method.L) out.push(0x30);
  }
  return out;
}

function usesVvvv(form: number): boolean {
  return operands(form).some(
    (o) => o.method === Method.H || o.method === Method.B || o.method === Method.KH || o.method === Method.TH,
  );
}

function build(map: number, opcode: number, form: number, path: Path, memForm: boolean): Vector | undefined {
  const mode: 32 | 64 = path.mode === 1 ? 32 : 64;
  const flags = FORM_FLAGS[form]!;
  const bytes: number[] = [];
  const legacy = map <= OpMap.M0F3A;
  const isXop = map >= OpMap.X8;
  const isVex = (map >= OpMap.V0F && map <= OpMap.V0F3A) || isXop;
  let osize = mode === 64 ? (flags & (F.D64 | F.F64) ? 64 : 32) : 32;
  let asize: number = mode;
  if (path.asize !== undefined) {
    asize = [16, 32, 64][path.asize]!;
    if ((mode === 64 && asize === 16) || (mode === 32 && asize === 64)) return undefined;
    if (asize !== mode) bytes.push(0x67);
  }
  let rexW = path.w === 1;
  if (path.osize !== undefined) {
    osize = [16, 32, 64][path.osize]!;
    if (mode === 32 && osize === 64) return undefined;
    if (osize === 16 && legacy) bytes.push(0x66);
    if (osize === 64) rexW = true;
    if (osize === 32 && mode === 64 && flags & F.D64) return undefined;
  }
  if (rexW && mode === 32) return undefined;
  if (rexW) osize = 64;
  const pfx = [0, 0x66, 0xf3, 0xf2][path.prefix ?? 0]!;
  if (legacy && pfx) {
    if (pfx === 0x66 && bytes.includes(0x66)) return undefined;
    bytes.push(pfx);
  }
  const hasModrm = (OPCODE_INFO[map * 256 + opcode]! & 1) !== 0;
  let modrm = -1;
  const tail: number[] = [];
  if (hasModrm) {
    const reg = path.reg ?? 2;
    if (path.mod === 1 || (!memForm && path.mod === undefined)) modrm = 0xc0 | (reg << 3) | (path.rm ?? 1);
    else {
      const vsib = operands(form).some((o) => o.method === Method.MV || o.size === Size.sib);
      if (vsib) {
        modrm = 0x44 | (reg << 3);
        tail.push(0x88, 0x10); // SIB: scale 4, index 1, base 0; disp8
      } else {
        modrm = 0x40 | (reg << 3); // disp8(%rax)
        tail.push(0x10);
      }
    }
  }
  if (legacy) {
    if (rexW) bytes.push(0x48);
    if (map === OpMap.M0F) bytes.push(0x0f);
    if (map === OpMap.M0F38) bytes.push(0x0f, 0x38);
    if (map === OpMap.M0F3A) bytes.push(0x0f, 0x3a);
  } else {
    const pp = path.prefix ?? 0;
    const vvvv = usesVvvv(form) ? ~3 & 15 : 15;
    const lm = FORM_LMASK[form]!;
    const L = path.l ?? (lm & 4 ? 2 : lm & 2 ? 1 : 0);
    if (isVex) {
      const mm = isXop ? map - OpMap.X8 + 8 : map - OpMap.V0F + 1;
      bytes.push(isXop ? 0x8f : 0xc4, 0xe0 | mm, ((path.w ?? 0) << 7) | (vvvv << 3) | ((L & 1) << 2) | pp);
    } else {
      const mmm = [1, 2, 3, 5, 6][map - OpMap.E0F]!;
      const aaa = flags & (F.K | F.KReq) ? 1 : 0;
      bytes.push(0x62, 0xf0 | mmm, ((path.w ?? 0) << 7) | (vvvv << 3) | 0x04 | pp, (L << 5) | 0x08 | aaa);
    }
    osize = path.w ? 64 : 32;
  }
  bytes.push(opcode);
  if (modrm >= 0) bytes.push(modrm, ...tail);
  bytes.push(...immBytes(form, mode, osize, asize));
  return { mode, bytes, form: FORM_NAME[form]! };
}

const vectors: Vector[] = [];
const seen = new Set<string>();
for (let map = 0; map < OpMap.Count; map++) {
  for (let op = 0; op < 256; op++) {
    const root = ROOTS[map * 256 + op]!;
    if (root === 0) continue;
    if (map === OpMap.M1 && [0x0f, 0xc4, 0xc5, 0x62].includes(op)) continue;
    walk(root, {}, (form, path) => {
      const both = (OPCODE_INFO[map * 256 + op]! & 1) !== 0 && path.mod === undefined;
      for (const mem of both ? [false, true] : [path.mod === 0]) {
        const v = build(map, op, form, path, mem);
        if (!v) continue;
        const key = `${v.mode}:${v.bytes.join(",")}`;
        if (seen.has(key)) continue;
        seen.add(key);
        vectors.push(v);
      }
    });
  }
}

const dir = mkdtempSync(join(tmpdir(), "xmc-vectors-"));

function objdumpAll(mode: 32 | 64, vs: Vector[]): { len: number; att: string; intel: string }[] {
  const src = [`.text`, mode === 32 ? ".code32" : ".code64"];
  vs.forEach((v, i) => {
    // One section per vector: every case starts at address 0, and objdump restarts decoding.
    src.push(
      `.section .t${i},"ax"`,
      `v${i}:`,
      `.byte ${v.bytes.map((b) => `0x${b.toString(16)}`).join(",")}`,
    );
  });
  const s = join(dir, `v${mode}.s`);
  const o = join(dir, `v${mode}.o`);
  writeFileSync(s, `${src.join("\n")}\n`);
  execFileSync("as", [mode === 32 ? "--32" : "--64", s, "-o", o]);
  const parse = (intel: boolean) => {
    const text = execFileSync("objdump", ["-d", "-w", ...(intel ? ["-M", "intel"] : []), o], {
      encoding: "utf8",
      maxBuffer: 1 << 28,
    });
    const res: { len: number; text: string }[] = [];
    let cur = -1;
    for (const line of text.split("\n")) {
      const h = /^[0-9a-f]+ <v(\d+)>:$/.exec(line);
      if (h) {
        cur = Number(h[1]);
        continue;
      }
      const m = /^\s*[0-9a-f]+:\t([0-9a-f ]+)\t(.*)$/.exec(line);
      if (m && cur >= 0 && res[cur] === undefined) {
        res[cur] = {
          len: m[1]!.trim().split(/\s+/).length,
          text: m[2]!.replace(/\s+<[^>]*>/g, "").trimEnd(),
        };
      }
    }
    return res;
  };
  const att = parse(false);
  const intel = parse(true);
  return vs.map((_, i) => ({ len: att[i]?.len ?? 0, att: att[i]?.text ?? "", intel: intel[i]?.text ?? "" }));
}

for (const mode of [64, 32] as const) {
  const vs = vectors.filter((v) => v.mode === mode);
  const res = objdumpAll(mode, vs);
  const lines = [
    `# GENERATED by scripts/vectors.ts (re-baseline: \`pnpm vectors\`); expected values are GNU objdump's.`,
    `# ${mode}-bit mode: hex | length | AT&T | Intel   (# form name)`,
  ];
  vs.forEach((v, i) => {
    const r = res[i]!;
    const hex = v.bytes.map((b) => b.toString(16).padStart(2, "0")).join("");
    lines.push(`${hex} | ${r.len} | ${r.att} | ${r.intel}   # ${v.form}`);
  });
  writeFileSync(join(import.meta.dirname, `../test/vectors/decode${mode}.txt`), `${lines.join("\n")}\n`);
  process.stdout.write(`vectors: ${vs.length} ${mode}-bit cases\n`);
}
