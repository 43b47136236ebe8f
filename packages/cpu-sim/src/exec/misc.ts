/**
 * Miscellaneous integer instructions: ENTER, XLAT, MOVBE, CRC32 (CRC-32C), ADCX/ADOX.
 * @module
 */
import { type Cpu, FL } from "../cpu.ts";
import { CpuException, Vec } from "../errors.ts";
import { getGpr, push64, readOp, setGpr, writeOp } from "../ops.ts";
import type { Handler, Uop } from "../uop.ts";

/** ENTER imm16, imm8 (64-bit operand size): push RBP, copy `level-1` frame pointers, allocate. */
const enter: Handler = (c: Cpu, u: Uop) => {
  // 64-bit operand size by default (the decoder may report 32); 66 selects the 16-bit form.
  if (u.osize === 2) throw new CpuException(Vec.UD, `unimplemented instruction \`${u.text}\` (16-bit enter)`);
  const size = u.immLo & 0xffff;
  const level = u.imm2 & 31;
  const r = c.regs;
  push64(c, r[10]!, r[11]!);
  const frame = c.reg64(4);
  if (level > 0) {
    let bp = c.reg64(5);
    for (let i = 1; i < level; i++) {
      bp -= 8;
      const lo = c.mem.read64(bp);
      push64(c, lo, c.mem.hi);
    }
    push64(c, frame | 0, Math.floor(frame / 4294967296) | 0);
  }
  c.setReg64(5, frame);
  c.setReg64(4, c.reg64(4) - size);
};

/** XLAT: AL = [rBX + unsigned AL] (segment override honoured). */
const xlat: Handler = (c: Cpu, u: Uop) => {
  const r = c.regs;
  let a = (u.asize === 4 ? r[6]! >>> 0 : c.reg64(3)) + (r[0]! & 0xff);
  if (u.asize === 4) a >>>= 0;
  if (u.mSeg === 4) a += c.fsBase;
  else if (u.mSeg === 5) a += c.gsBase;
  r[0] = (r[0]! & ~0xff) | c.mem.read8(a);
};

function swap32(v: number): number {
  return (v >>> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24) | 0;
}

/** MOVBE Gv, Mv / Mv, Gv: move with the byte order reversed. */
const movbe: Handler = (c: Cpu, u: Uop) => {
  const lo = readOp(c, u, 1);
  const hi = c.hi;
  const size = u.s0;
  if (size === 8) writeOp(c, u, 0, swap32(hi), swap32(lo));
  else if (size === 4) writeOp(c, u, 0, swap32(lo), 0);
  else writeOp(c, u, 0, ((lo & 0xff) << 8) | ((lo >> 8) & 0xff), 0);
};

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) byte table. */
const CRC = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  let x = i;
  for (let k = 0; k < 8; k++) x = x & 1 ? (x >>> 1) ^ 0x82f63b78 : x >>> 1;
  CRC[i] = x;
}

/** CRC32 Gy, Eb/Ev: accumulate the source's bytes (least significant first) into the CRC. */
const crc32: Handler = (c: Cpu, u: Uop) => {
  const lo = readOp(c, u, 1);
  const hi = c.hi;
  const n = u.s1;
  let crc = getGpr(c, u.r0, 4, 0);
  for (let i = 0; i < n; i++) {
    const b = (i < 4 ? lo >>> (8 * i) : hi >>> (8 * (i - 4))) & 0xff;
    crc = (crc >>> 8) ^ CRC[(crc ^ b) & 0xff]!;
  }
  setGpr(c, u.r0, 4, 0, crc, 0); // a 64-bit destination is zero-extended too
};

/** ADCX (carry in/out through CF) and ADOX (through OF): unsigned add, no other flag changes. */
function adx(flag: number): Handler {
  return (c: Cpu, u: Uop) => {
    const a = readOp(c, u, 0);
    const ah = c.hi;
    const b = readOp(c, u, 1);
    const bh = c.hi;
    c.materialize();
    const cin = c.flags & flag ? 1 : 0;
    let rh = 0;
    let cout: boolean;
    const s = (a >>> 0) + (b >>> 0) + cin;
    const r = s | 0;
    if (u.s0 === 8) {
      const t = (ah >>> 0) + (bh >>> 0) + (s > 0xffffffff ? 1 : 0);
      rh = t | 0;
      cout = t > 0xffffffff;
    } else cout = s > 0xffffffff;
    c.flags = (c.flags & ~flag) | (cout ? flag : 0);
    writeOp(c, u, 0, r, rh);
  };
}

/** Handlers by form name. */
export const MISC: Record<string, Handler> = {
  enter_Iw_IIb: enter,
  xlat_XLAT: xlat,
  movbe_Gv_Mv: movbe,
  movbe_Mv_Gv: movbe,
  crc32_Gy_Eb: crc32,
  crc32_Gy_Ev: crc32,
  adcx_Gy_Ey: adx(FL.CF),
  adox_Gy_Ey: adx(FL.OF),
};
