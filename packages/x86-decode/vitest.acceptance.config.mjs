import { packageVitestConfig } from "@xmc/tooling/vitest";

// Acceptance suites that do not pass yet (issue 2, points 1 and 3): run with
// `pnpm test:acceptance`. They move into the default suite (and CI) once they pass.
export default packageVitestConfig({
  test: { include: ["test/acceptance/**/*.test.ts"], reporters: ["default"] },
});
