/**
 * Hazards (XMC-MODEL.md): what the checker reports about an executed instruction, with a
 * counterexample detailed enough to understand and replay it.
 * @module
 */

/** Hazard classes. */
export type HazardClass =
  | "torn"
  | "unsynchronized"
  | "mid-instruction"
  | "branch-into-patch"
  | "freed-text"
  | "unhandled-int3";

/** Every class, in report order. */
export const HAZARD_CLASSES: readonly HazardClass[] = [
  "torn",
  "unsynchronized",
  "mid-instruction",
  "branch-into-patch",
  "freed-text",
  "unhandled-int3",
];

/** Where one byte of an executed instruction came from. */
export interface ByteOrigin {
  addr: number;
  value: number;
  /** The write that produced it (0 = initial image). */
  writeId: number;
  /** Who made that write: CPU number, -1 the patching agent, -2 the loader. */
  writer: number;
  /** Event time of that write. */
  writeTime: number;
  /** Event time the byte was fetched (its block's snapshot). */
  fetchTime: number;
  /** Event time of the next write to this byte (Infinity if none before execution). */
  nextWriteTime: number;
}

/** One reported hazard. */
export interface Hazard {
  cls: HazardClass;
  /** The CPU that executed (or trapped). */
  cpu: number;
  /** Address of the instruction (or the landing address). */
  rip: number;
  /** Event time of the execution. */
  time: number;
  /** Scheduler step number at which it happened. */
  step: number;
  /** The instruction's bytes and their origins (empty for hazards that are not about bytes). */
  bytes: ByteOrigin[];
  /** One line saying what happened. */
  detail: string;
}

/** Counts per hazard class (all classes present, zeros included). */
export function countByClass(hazards: readonly Hazard[]): Record<HazardClass, number> {
  const out = Object.fromEntries(HAZARD_CLASSES.map((c) => [c, 0])) as Record<HazardClass, number>;
  for (const h of hazards) out[h.cls]++;
  return out;
}

/** A readable multi-line description of a hazard. */
export function describeHazard(h: Hazard): string {
  const who = (w: number) => (w === -1 ? "agent" : w === -2 ? "image" : `cpu${w}`);
  const lines = [
    `${h.cls} on cpu${h.cpu} at 0x${h.rip.toString(16)} (step ${h.step}, time ${h.time}): ${h.detail}`,
  ];
  for (const b of h.bytes) {
    lines.push(
      `  0x${b.addr.toString(16)}: ${b.value.toString(16).padStart(2, "0")} from write #${b.writeId} by ${who(b.writer)} at t=${b.writeTime}, fetched t=${b.fetchTime}, next write t=${b.nextWriteTime === Number.POSITIVE_INFINITY ? "-" : b.nextWriteTime}`,
    );
  }
  return lines.join("\n");
}
