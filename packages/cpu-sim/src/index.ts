/**
 * @xmc/cpu-sim: a deterministic multi-CPU x86-64 machine that runs real, unmodified static
 * Linux programs.
 * @module
 */
export { CodeCache, type HandlerTable } from "./cache.ts";
export { type CostProfile, classify, DEFAULT_PROFILE } from "./cost.ts";
export { Cpu, type CpuHost, FL, LF, R } from "./cpu.ts";
export { cpuid, FEATURES } from "./cpuid.ts";
export { CpuException, Vec } from "./errors.ts";
export { HANDLERS } from "./exec/index.ts";
export { runCpu, Stop } from "./exec/run.ts";
export { LoadError, type LoadedImage, loadStatic } from "./linux/loader.ts";
export { type ExitStatus, GUEST_PID, LinuxProcess, type ProcessOptions } from "./linux/process.ts";
export { SYSCALLS } from "./linux/syscalls.ts";
export { Rng, Scheduler } from "./linux/threads/scheduler.ts";
export { Thread, ThreadState } from "./linux/threads/thread.ts";
export { EPOCH_SECONDS, NOMINAL_HZ } from "./linux/time.ts";
export { type EventKind, EventLog, Machine, type MachineOptions } from "./machine.ts";
export { GuestFault, Memory, MemoryLimitError, PAGE_SIZE, Perm } from "./memory.ts";
export {
  type MachinePort,
  machinePort,
  type PortCpu,
  type PortLock,
  type PortTrap,
  type PortTrapHandler,
} from "./port.ts";
export {
  countByClass,
  describeHazard,
  HAZARD_CLASSES,
  type Hazard,
  type HazardClass,
} from "./precise/hazards.ts";
export {
  checkLitmus,
  LitmusError,
  type LitmusReport,
  type LitmusRun,
  type LitmusTest,
  loadLitmus,
  parseLitmus,
  replayLitmus,
  runLitmus,
} from "./precise/litmus.ts";
export {
  type Actor,
  type AgentProgram,
  type HostCallContext,
  type IpiBatch,
  PreciseMachine,
  type PreciseOptions,
  type Scheduler as PreciseScheduler,
  type TrapContext,
  type TrapHandler,
  type TrapResult,
  type TrapVector,
} from "./precise/machine.ts";
export { explorePreemptionBounded, RandomScheduler, ScriptedScheduler } from "./precise/schedule.ts";
export { type Handler, K, Uop } from "./uop.ts";
