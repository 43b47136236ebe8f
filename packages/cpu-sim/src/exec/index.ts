/**
 * The handler table: every implemented instruction form, by the decoder's form name.
 * @module
 */
import type { Handler } from "../uop.ts";
import { ALU } from "./alu.ts";
import { BRANCH } from "./branch.ts";
import { MOVE } from "./move.ts";
import { SSE } from "./sse.ts";
import { SYSTEM } from "./system.ts";
import { X87 } from "./x87.ts";

/** All handlers by form name (later modules override earlier ones on a clash). */
export const HANDLERS: Record<string, Handler> = { ...ALU, ...MOVE, ...BRANCH, ...SYSTEM, ...SSE, ...X87 };
