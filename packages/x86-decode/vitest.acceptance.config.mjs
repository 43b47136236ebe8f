import { packageVitestConfig } from "@xmc/tooling/vitest";

// Acceptance suites that do not pass yet (issue 2, point 3: random decodes vs iced-x86): run with
// `pnpm test:acceptance`. They move into the default suite (and CI) once they pass; the per-entry
// vectors (point 1) already did (test/vectors.test.ts).
export default packageVitestConfig({
  test: { include: ["test/acceptance/**/*.test.ts"], reporters: ["default"] },
});
