/**
 * All SSE/SSE2 handlers (moves, packed integer, floating point, conversions, MXCSR/FXSAVE).
 * @module
 */
import type { Handler } from "../uop.ts";
import { SSE_CVT } from "./sse-cvt.ts";
import { SSE_FP } from "./sse-fp.ts";
import { SSE_INT } from "./sse-int.ts";
import { SSE_MOVE } from "./sse-move.ts";
import { SSE_STATE } from "./sse-state.ts";

/** SSE/SSE2 handlers by form name. */
export const SSE: Record<string, Handler> = { ...SSE_MOVE, ...SSE_INT, ...SSE_FP, ...SSE_CVT, ...SSE_STATE };
