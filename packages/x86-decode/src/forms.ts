/**
 * The instruction forms of the generated tables, for tools that attach behaviour to them (a
 * simulator registers one handler per form name, e.g. `add_Ev_Gv`).
 * @module
 */
import { FORM_NAME, FORM_OPS, OPERAND_METHOD, OPERAND_SIZE } from "./generated/tables.ts";

/** Number of instruction forms. */
export function formCount(): number {
  return FORM_NAME.length;
}

/** Name of form `form` (`mnemonic_operands`, e.g. `add_Ev_Gv`); `Instruction.form` indexes it. */
export function formName(form: number): string {
  return FORM_NAME[form] ?? "";
}

/**
 * The operands of form `form` as [method, size] code pairs (codes of the data format: see
 * data/README.md), Intel order.
 */
export function formOperands(form: number): [number, number][] {
  const out: [number, number][] = [];
  for (let k = 0; k < 5; k++) {
    const id = FORM_OPS[form * 5 + k] ?? 0;
    if (id === 0) break;
    out.push([OPERAND_METHOD[id]!, OPERAND_SIZE[id]!]);
  }
  return out;
}
