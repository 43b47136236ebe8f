import { packageVitestConfig } from "@xmc/tooling/vitest";

export default packageVitestConfig();
