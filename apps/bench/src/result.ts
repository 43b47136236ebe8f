/**
 * What an experiment produces: tables, charts (SVG text) and a reading, plus raw data. The
 * runner writes `results/<name>.json` and `results/<name>.svg`; BENCHMARKS.md is generated
 * from the JSON files alone.
 * @module
 */
import type { HostInfo } from "./stats.ts";
import type { Table } from "./table.ts";

/** A chart of an experiment. */
export interface Chart {
  /** File name under results/ (`cuts.svg`). */
  readonly file: string;
  readonly title: string;
  readonly svg: string;
}

/** One experiment's output. */
export interface Experiment {
  /** File stem: results/<name>.json. */
  readonly name: string;
  readonly title: string;
  readonly tables: readonly Table[];
  readonly charts: readonly Chart[];
  /** A short reading of the figures, generated from them (markdown). */
  readonly reading: string;
  /** Raw figures (numbers), for other experiments and tests. */
  readonly data: Record<string, unknown>;
}

/** The JSON written for an experiment (charts by file name only). */
export interface ResultFile {
  readonly name: string;
  readonly title: string;
  readonly generated: string;
  readonly quick: boolean;
  /** Cost profile of the modeled figures. */
  readonly profile: string;
  readonly host: HostInfo;
  /** Host seconds the experiment took. */
  readonly seconds: number;
  readonly tables: readonly Table[];
  readonly charts: readonly { file: string; title: string }[];
  readonly reading: string;
  readonly data: Record<string, unknown>;
}

/** Probe rows not measured because @xmc/probes is not usable in this tree. */
export const PENDING = "pending @xmc/probes";
