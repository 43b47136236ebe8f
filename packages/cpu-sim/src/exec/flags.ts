/**
 * Flag instructions: CLC STC CMC CLD STD, LAHF SAHF, PUSHF POPF (16- and 64-bit).
 * @module
 */
import { type Cpu, FL } from "../cpu.ts";
import { pop64, push64 } from "../ops.ts";
import type { Handler, Uop } from "../uop.ts";

/** The five flags LAHF/SAHF move: SF ZF AF PF CF. */
const LOW = FL.SF | FL.ZF | FL.AF | FL.PF | FL.CF;
/** Flags POPF may change at CPL 3 with IOPL 0: the arithmetic flags, TF DF OF, NT(14) AC(18) ID(21). */
const POPF_USER = FL.ARITH | FL.TF | FL.DF | 0x4000 | 0x40000 | 0x200000;
/** RF(16) and VM(17) read as 0 in the image PUSHF stores. */
const PUSHF_MASK = ~0x30000;

const clc: Handler = (c) => {
  c.materialize();
  c.flags &= ~FL.CF;
};
const stc: Handler = (c) => {
  c.materialize();
  c.flags |= FL.CF;
};
const cmc: Handler = (c) => {
  c.materialize();
  c.flags ^= FL.CF;
};
const cld: Handler = (c) => {
  c.flags &= ~FL.DF;
};
const std: Handler = (c) => {
  c.flags |= FL.DF;
};

/** LAHF: AH = SF:ZF:0:AF:0:PF:1:CF. */
const lahf: Handler = (c) => {
  const f = (c.getFlags() & LOW) | 2;
  c.regs[0] = (c.regs[0]! & ~0xff00) | (f << 8);
};

/** SAHF: SF ZF AF PF CF from AH (OF unchanged). */
const sahf: Handler = (c) => {
  c.materialize();
  c.flags = (c.flags & ~LOW) | ((c.regs[0]! >> 8) & LOW);
};

const pushf: Handler = (c: Cpu, u: Uop) => {
  const f = c.getFlags() & PUSHF_MASK;
  if (u.osize === 2) {
    const sp = c.reg64(4) - 2;
    c.mem.write16(sp, f);
    c.setReg64(4, sp);
  } else push64(c, f, 0);
};

const popf: Handler = (c: Cpu, u: Uop) => {
  let v: number;
  let chg = POPF_USER;
  if (u.osize === 2) {
    const sp = c.reg64(4);
    v = c.mem.read16(sp);
    c.setReg64(4, sp + 2);
    chg &= 0xffff;
  } else v = pop64(c);
  c.setFlags((c.getFlags() & ~chg) | (v & chg));
};

/** Handlers by form name. */
export const FLAGS: Record<string, Handler> = {
  clc,
  stc,
  cmc,
  cld,
  std,
  lahf,
  sahf,
  pushf,
  pushfw: pushf,
  popf,
  popfw: popf,
};
