/**
 * CPU exceptions raised by instruction handlers. The machine catches them at the instruction
 * boundary and turns them into guest signals or host-side reports; they never escape.
 * @module
 */

/** Exception vectors (SDM Vol. 3A §6.3). */
export enum Vec {
  DE = 0,
  DB = 1,
  BP = 3,
  OF = 4,
  UD = 6,
  NM = 7,
  GP = 13,
  PF = 14,
  MF = 16,
  AC = 17,
  XM = 19,
}

/** A CPU exception raised while executing an instruction (the instruction did not complete). */
export class CpuException extends Error {
  readonly vector: Vec;
  constructor(vector: Vec, message: string) {
    super(message);
    this.name = "CpuException";
    this.vector = vector;
  }
}

/** Raise #UD for an instruction the simulator does not implement (or that is invalid here). */
export function undefinedInstruction(what: string): never {
  throw new CpuException(Vec.UD, what);
}
