/**
 * The conformance case stream: the one description of the binary format that the generator
 * writes, the native harness (harness.c) reads, and the simulator side replays.
 *
 * Stream: header `u32 magic 0x43434d58 ("XMCC")`, `u32 version 1`, then the 4096-byte base
 * pattern of the data buffer, then case records until the end. All little-endian.
 *
 * Case record (168 bytes + overlay + optional vector state):
 * | offset | field |
 * | --- | --- |
 * | 0 | `u8 code[16]`: instruction bytes (at most 15 used) |
 * | 16 | `u32 codeLen` |
 * | 20 | `u32 flags`: bit 0 = XMM0-15 (256 bytes) follow the overlay and MXCSR is meaningful |
 * | 24 | `u64 gpr[16]`: RAX RCX RDX RBX RSP RBP RSI RDI R8-R15 |
 * | 152 | `u64 rflags` (the harness keeps CF PF AF ZF SF DF OF, sets IF and bit 1) |
 * | 160 | `u16 ovlOff`, `u16 ovlLen` (≤ 64): bytes that replace the base pattern for this case |
 * | 164 | `u32 mxcsr` |
 * | 168 | `u8 overlay[ovlLen]`, then `u8 xmm[16][16]` when flags bit 0 |
 *
 * Result record (152 bytes + optional vector state + diffs):
 * | offset | field |
 * | --- | --- |
 * | 0 | `u32 status`: {@link Status} |
 * | 4 | `u32 ndiff`: data bytes that differ from the initial buffer (0 when faulted) |
 * | 8 | `u64 gpr[16]` |
 * | 136 | `u64 rflags` |
 * | 144 | `u32 mxcsr`, `u32 0` |
 * | 152 | `u8 xmm[16][16]` when the case had flags bit 0, then `ndiff` × (`u16 offset`, `u8 value`, `u8 0`) |
 *
 * The snippet runs at {@link CODE_ADDR}; the data buffer is at {@link DATA_ADDR} in both worlds,
 * so register values that hold addresses compare directly.
 * @module
 */

/** Address of the 4 KiB data buffer (harness and simulator). */
export const DATA_ADDR = 0x10000000;
/** Address of the code page. */
export const CODE_ADDR = 0x20000000;
/** Size of the data buffer in bytes. */
export const DATA_SIZE = 4096;
/** Stream magic ("XMCC") and version. */
export const MAGIC = 0x43434d58;
export const VERSION = 1;
/** Size of a case record without overlay and vector state. */
export const CASE_HEAD = 168;
/** Size of a result record without vector state and diffs. */
export const RESULT_HEAD = 152;
/** Case flag: vector state present. */
export const HAS_XMM = 1;

/** How a case ended (native: the signal; simulator: the exception). */
export enum Status {
  Ok = 0,
  DE = 1,
  UD = 2,
  GP = 3,
  PF = 4,
  AC = 5,
  Trap = 6,
  Other = 7,
}

/** RFLAGS bits compared after a case: CF PF AF ZF SF IF DF OF NT ID (undefined ones masked per case). */
export const FLAGS_COMPARED: number =
  0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x200 | 0x400 | 0x800 | 0x4000 | 0x200000;
