/**
 * @xmc/probes, when it is usable in this tree: loaded from its built bundle at run time (it was
 * written alongside this app, and the other experiments must run without it). Only the calls
 * this app makes are typed here. When the bundle is missing, its API differs or it refuses a
 * site, the probe rows of experiments 1 and 4 are marked pending, with the reason.
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { ElfFile } from "@xmc/elf";
import { ROOT } from "./sim.ts";

/** The part of a registered probe this app reads. */
export interface ProbeLike {
  readonly hits: number;
  readonly returns: number;
  readonly state: string;
  readonly refusal: unknown;
}

/** The part of a probe spec this app uses. */
export interface ProbeSpecLike {
  kind: "kprobe" | "kretprobe" | "djprobe";
  symbol?: string;
  marker?: string;
  pre?: () => void;
  post?: () => void;
  ret?: () => void;
  boost?: boolean;
}

/** The part of the Probes registry this app uses. */
export interface ProbesLike {
  register(spec: ProbeSpecLike): {
    probe: ProbeLike;
    steps: Generator<undefined | { wait: () => boolean; why: string }, unknown, void>;
  };
}

/** The constructor of the registry. */
export type ProbesCtor = new (port: unknown, options: { elf: ElfFile }) => ProbesLike;

/**
 * The registry's constructor, or why it cannot be used. `XMC_BENCH_PROBES` names another module
 * to load instead of the bundle (e.g. packages/probes/src/index.ts under tsx, to try the rows
 * before the package is built).
 */
export async function loadProbes(): Promise<{ Probes: ProbesCtor } | { pending: string }> {
  const file = process.env.XMC_BENCH_PROBES ?? join(ROOT, "packages/probes/dist/index.js");
  if (!existsSync(file)) return { pending: "packages/probes/dist is not built" };
  try {
    const mod = (await import(pathToFileURL(file).href)) as { Probes?: unknown };
    if (typeof mod.Probes !== "function") return { pending: "packages/probes exports no Probes class" };
    const proto = (mod.Probes as { prototype: Record<string, unknown> }).prototype;
    if (typeof proto.register !== "function") return { pending: "Probes has no register()" };
    return { Probes: mod.Probes as ProbesCtor };
  } catch (e) {
    return { pending: `packages/probes does not load: ${(e as Error).message.split("\n")[0]}` };
  }
}
