import { packageVitestConfig } from "@xmc/tooling/vitest";

// test/acceptance/ holds suites that do not pass yet; see vitest.acceptance.config.mjs.
export default packageVitestConfig({ test: { exclude: ["test/acceptance/**", "**/node_modules/**"] } });
