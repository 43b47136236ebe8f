/**
 * @xmc/text-patch: live patching of x86 code that other CPUs are running — the INT3 batch
 * protocol with an emulating handler, early poke, stop-machine and deliberately unsafe
 * protocols, validation before any write, per-run statistics in modeled cycles, and a checker
 * that runs a protocol against a machine's scenarios. It reaches the machine only through the
 * {@link TextPort} it defines.
 * @module
 */
export {
  type ActorRef,
  type CheckOptions,
  type CheckReport,
  type CheckScenario,
  type Counterexample,
  checkProtocol,
  explorePreemptions,
  type HazardReport,
  PreemptionSchedule,
  type ProtocolRun,
  type ProtocolSpec,
  protocolLabel,
  RandomSchedule,
  replayProtocol,
  runProtocol,
  type ScenarioInstance,
  type ScenarioRun,
  type ScheduleChooser,
  ScriptedSchedule,
  unpatchedOutcome,
} from "./check.ts";
export { PatchError, type PatchRule } from "./errors.ts";
export { Int3Claim, Int3Table } from "./handler.ts";
export {
  classifyBreakpoint,
  classifyNew,
  conditionHolds,
  emulate,
  PATCH_LENGTHS,
  type PatchInsn,
  type PatchKind,
  wholeInstructions,
} from "./insn.ts";
export { type PatcherOptions, type PatchOptions, type SiteRef, TextPatcher } from "./patcher.ts";
export {
  createWriterLock,
  type Int3Handler,
  type Int3Trap,
  type PatchSteps,
  type PatchYield,
  type StopHandle,
  type SyncHandle,
  type TextPort,
  type TrapCpu,
  type TrapOutcome,
  type WriterLock,
} from "./port.ts";
export {
  type CheckMachine,
  type CheckMachineCpu,
  type PrecisePort,
  type PreciseScenario,
  type PreciseScenarioOptions,
  precisePort,
  preciseScenario,
} from "./precise-port.ts";
export {
  type PatchStats,
  type ProtocolName,
  type ProtocolOptions,
  splitStores,
  UNSAFE_PROTOCOLS,
} from "./protocols.ts";
export {
  SCENARIO_BASE,
  type ScenarioProgram,
  type ScenarioProgramOptions,
  SITE_KINDS,
  type SiteKind,
  scenarioProgram,
  scenarioStack,
} from "./scenarios.ts";
export { MAX_BOUNDARY_SCAN, type PatchSite, validateBatch, validateSite } from "./validate.ts";
