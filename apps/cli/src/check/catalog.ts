/**
 * What `xmc check` checks: the protocols (text-patch's, and the INT3 protocol with one piece
 * removed), the scenarios they run on (text-patch's scenario programs on cpu-sim's precise
 * machine, strict mode, default fetch model B = 16, Q = 2), and the verdict each protocol is
 * expected to get (XMC-MODEL.md's predictions, text-patch's README table).
 */
import { describeHazard, type Hazard, Perm, PreciseMachine } from "@xmc/cpu-sim";
import {
  type PreciseScenario,
  type ProtocolSpec,
  preciseScenario,
  SITE_KINDS,
  type SiteKind,
  scenarioProgram,
} from "@xmc/text-patch";

/** A protocol as `xmc check` names it. */
export interface CheckedProtocol {
  /** The name on the command line and in the table. */
  name: string;
  spec: ProtocolSpec;
  /** Safe protocols must show no hazard and no wrong result. */
  safe: boolean;
  /** For unsafe protocols: the hazard class the checker must find (on `mustFindOn`). */
  mustFind?: string;
  /** The scenario on which `mustFind` is judged (it may be absent on others). */
  mustFindOn?: SiteKind;
  /** The scenarios it is meaningful on. */
  scenarios: readonly SiteKind[];
  /** A refusal (validation before any write) is this protocol's safe answer, not a failure. */
  mayRefuse?: boolean;
  /** Let IPIs interrupt the INT3 handler (what makes the missing reference counts visible). */
  ipiInTrap?: boolean;
  /** One line: what it is. */
  about: string;
}

const SINGLE: readonly SiteKind[] = ["nop5-jmp32", "nop5-call32", "nop2-jmp8", "jcc32"];

/** Every protocol `--protocol all` runs, in table order. */
export const PROTOCOLS: readonly CheckedProtocol[] = [
  {
    name: "int3-batch",
    spec: "int3-batch",
    safe: true,
    scenarios: SITE_KINDS,
    about: "INT3 over first bytes, sync, tails, sync, first bytes, sync (text_poke_bp)",
  },
  {
    name: "stop-machine",
    spec: "stop-machine",
    safe: true,
    scenarios: SITE_KINDS,
    about: "park every CPU by IPI, plain stores, serialize and release",
  },
  {
    name: "early",
    spec: "early",
    safe: true,
    mayRefuse: true,
    scenarios: ["nop5-jmp32"],
    about: "plain stores, refused while another CPU runs (boot only)",
  },
  {
    name: "naive",
    spec: "naive",
    safe: false,
    mustFind: "torn",
    mustFindOn: "nop5-jmp32",
    scenarios: SINGLE,
    about: "plain stores while CPUs run",
  },
  {
    name: "jmp2",
    spec: "jmp2",
    safe: false,
    mustFind: "torn",
    mustFindOn: "jmp2",
    scenarios: ["jmp2"],
    about: '"2-byte jmp + 3 NOPs" marker: tail, then head, no sync',
  },
  {
    name: "jmp2-sync",
    spec: "jmp2-sync",
    safe: false,
    mustFind: "unsynchronized",
    mustFindOn: "jmp2",
    scenarios: ["jmp2"],
    about: "the same with a sync between tail and head (never torn; unsynchronized head)",
  },
  {
    name: "int3-no-sync1",
    spec: { omitSync: 1 },
    safe: false,
    mustFind: "torn",
    mustFindOn: "nop5-jmp32",
    scenarios: SINGLE,
    about: "INT3 protocol without the sync after the INT3s",
  },
  {
    name: "int3-no-sync2",
    spec: { omitSync: 2 },
    safe: false,
    mustFind: "unsynchronized",
    mustFindOn: "nop5-jmp32",
    scenarios: SINGLE,
    about: "INT3 protocol without the sync after the tails",
  },
  {
    name: "int3-no-sync3",
    spec: { omitSync: 3 },
    safe: false,
    mustFind: "unhandled-int3",
    mustFindOn: "nop5-jmp32",
    scenarios: SINGLE,
    about: "INT3 protocol without the sync after the first bytes",
  },
  {
    name: "int3-no-refcount",
    spec: { refcount: false },
    safe: false,
    mustFind: "unhandled-int3",
    mustFindOn: "nop5-call32",
    scenarios: ["nop5-call32"],
    ipiInTrap: true,
    about: "INT3 protocol retiring its table without reference counts (IPIs inside the handler)",
  },
];

/** The protocol named `name`, or undefined. */
export function findProtocol(name: string): CheckedProtocol | undefined {
  return PROTOCOLS.find((p) => p.name === name);
}

/**
 * One site of `kind` straddling a fetch-block boundary, patched forward and back while `cpus`
 * CPUs loop through it twice, on a precise machine in strict mode.
 */
export function checkScenario(
  kind: SiteKind,
  cpus: number,
  ipiInTrap = false,
): PreciseScenario<PreciseMachine> {
  const program = scenarioProgram({ kinds: [kind], iterations: 2 });
  return preciseScenario(`${kind}`, program, {
    cpus,
    boot: (p) => {
      const m = new PreciseMachine({ cpus, strict: true, ipiInTrap });
      m.load(p.base, p.code, Perm.RX);
      return m;
    },
    // SAFETY: the reports come from this machine, whose hazards are cpu-sim's.
    describe: (h) => describeHazard(h as Hazard),
  });
}
