/**
 * @xmc/x86-decode: x86 and x86-64 decoding, formatting (GNU objdump AT&T and Intel text),
 * instruction facts for patching, and a small encoder for patch instructions.
 * @module
 */
export { Br } from "./codes.ts";
export { decode } from "./decode.ts";
export {
  CONDITIONS,
  EncodeError,
  encodeCall32,
  encodeInt3,
  encodeJcc8,
  encodeJcc32,
  encodeJmp,
  encodeJmp8,
  encodeJmp32,
  encodeNop,
  encodeNopFill,
  encodeRet,
} from "./encode.ts";
export { type FormatOptions, formatAtt, formatIntel } from "./format.ts";
export { formCount, formName, formOperands } from "./forms.ts";
export { DECODE_ERROR_TEXT, DecodeError, Instruction, OpKind, Prefix } from "./instruction.ts";
export { instructionLength } from "./length.ts";
export { REG_NAMES, Reg } from "./registers.ts";
