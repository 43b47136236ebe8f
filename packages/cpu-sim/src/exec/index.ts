/**
 * The handler table: every implemented instruction form, by the decoder's form name.
 * @module
 */
import type { Handler } from "../uop.ts";
import { ALU } from "./alu.ts";
import { ATOMIC } from "./atomic.ts";
import { BITS } from "./bits.ts";
import { BRANCH } from "./branch.ts";
import { FLAGS } from "./flags.ts";
import { MISC } from "./misc.ts";
import { MOVE } from "./move.ts";
import { MULDIV } from "./muldiv.ts";
import { SHIFT } from "./shift.ts";
import { SSE } from "./sse.ts";
import { STRING } from "./string.ts";
import { SYSTEM } from "./system.ts";
import { X87 } from "./x87.ts";

/** All handlers by form name (later modules override earlier ones on a clash). */
export const HANDLERS: Record<string, Handler> = {
  ...ALU,
  ...MOVE,
  ...BRANCH,
  ...SYSTEM,
  ...SHIFT,
  ...MULDIV,
  ...BITS,
  ...ATOMIC,
  ...STRING,
  ...FLAGS,
  ...MISC,
  ...SSE,
  ...X87,
};
