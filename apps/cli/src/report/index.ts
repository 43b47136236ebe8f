/**
 * The HTML report: `renderReport(model)` for `xmc trace` and `xmc demo`, `reportFromCtf(dir)`
 * for `xmc report`.
 */
export { HISTOGRAMS_ENV, parseHistograms, reportFromCtf } from "./from-ctf.ts";
export {
  countEvents,
  type Histogram,
  type Ipi,
  ipisFromEvents,
  PATCH_PREFIX,
  type PatchPhase,
  phasesFromEvents,
  type ReportEvent,
  type ReportModel,
  type ReportValue,
} from "./model.ts";
export { MAX_MARKS, renderReport } from "./render.ts";
