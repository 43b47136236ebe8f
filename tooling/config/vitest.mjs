// Shared vitest settings: tests run from src (the "@xmc/source" export condition), results
// are written to .vitest-results.json for the repository-wide summary line.
import { defineConfig } from "vitest/config";

/** Vitest config for one package; `overrides.test` is merged into the shared test settings. */
export function packageVitestConfig(overrides = {}) {
  const { test = {}, ...rest } = overrides;
  return defineConfig({
    resolve: { conditions: ["@xmc/source"] },
    ssr: { resolve: { conditions: ["@xmc/source"] } },
    ...rest,
    test: {
      include: ["test/**/*.test.ts"],
      testTimeout: 600_000,
      hookTimeout: 600_000,
      pool: "forks",
      reporters: ["default", ["json", { outputFile: ".vitest-results.json" }]],
      ...test,
    },
  });
}
