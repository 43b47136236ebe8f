/**
 * Running the fixture programs natively and on the simulator, for tests that compare them.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { constants } from "node:os";
import { join } from "node:path";
import { type ExitStatus, LinuxProcess, Machine, type ProcessOptions } from "../../src/index.ts";

/** Directory of the committed fixture binaries. */
export const BIN: string = join(import.meta.dirname, "../fixtures/bin");

/** Path of fixture `name`. */
export function fixture(name: string): string {
  return join(BIN, name);
}

/** Result of one run. */
export interface RunResult {
  stdout: string;
  stderr: string;
  /** Exit status as a shell reports it: the code, or 128 + signal. */
  status: number;
}

/** Run `path` natively. */
export function runNative(path: string, args: string[] = [], cwd?: string): RunResult {
  const r = spawnSync(path, args, { encoding: "utf8", cwd, maxBuffer: 1 << 26, timeout: 60_000 });
  const status =
    r.status ?? 128 + (r.signal ? ((constants.signals as Record<string, number>)[r.signal] ?? 0) : 0);
  return { stdout: r.stdout, stderr: r.stderr, status };
}

/** A simulator run with the machine and process kept for inspection. */
export interface SimResult extends RunResult {
  exit: ExitStatus;
  machine: Machine;
  proc: LinuxProcess;
}

/** Run `path` on the simulator with `cpus` vCPUs. */
export function runSim(
  path: string,
  args: string[] = [],
  opts: Partial<ProcessOptions> & {
    cpus?: number;
    precise?: { fetchBlock?: number; prefetch?: number; strict?: boolean; fetchSeed?: number };
  } = {},
): SimResult {
  const machine = new Machine({ cpus: opts.cpus ?? 4, ...(opts.precise ? { precise: opts.precise } : {}) });
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const proc = new LinuxProcess(machine, readFileSync(path), {
    argv: [path, ...args],
    stdin: new Uint8Array(0),
    maxInstructions: 500_000_000,
    ...opts,
    stdout: (d) => out.push(d.slice()),
    stderr: (d) => err.push(d.slice()),
  });
  const exit = proc.run();
  const dec = (l: Uint8Array[]) => Buffer.concat(l).toString("utf8");
  const status = exit.signal ? 128 + exit.signal : exit.instructionLimit ? 124 : exit.code;
  return { stdout: dec(out), stderr: dec(err), status, exit, machine, proc };
}
