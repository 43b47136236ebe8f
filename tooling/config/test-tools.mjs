// Helpers for tests that need system tools (objdump, babeltrace2, musl-gcc, chromium...).
// On a user's machine a missing tool skips the test with a loud notice; in CI
// (XMC_FORBID_SKIP=1, set by .ci/run) a missing tool is a failure, so CI never passes by skipping.
import { execFileSync } from "node:child_process";

const cache = new Map();

/** True when `cmd` can be found on PATH. */
export function hasTool(cmd) {
  if (!cache.has(cmd)) {
    let ok = false;
    try {
      execFileSync("sh", ["-c", `command -v ${JSON.stringify(cmd)}`], { stdio: "ignore" });
      ok = true;
    } catch {
      ok = false;
    }
    cache.set(cmd, ok);
  }
  return cache.get(cmd);
}

/** True when skips are forbidden (CI). */
export function skipsForbidden() {
  return process.env.XMC_FORBID_SKIP === "1" || process.env.XMC_FORBID_SKIP === "true";
}

/**
 * Decide whether tests needing `tools` can run. Returns true when they can. When a tool is
 * missing: prints a loud notice and returns false (the caller skips), or throws in CI.
 */
export function requireTools(...tools) {
  const missing = tools.filter((t) => !hasTool(t));
  if (missing.length === 0) return true;
  const msg = `required system tool(s) missing: ${missing.join(", ")} (install them: see .ci/run)`;
  if (skipsForbidden()) throw new Error(`${msg}; skips are forbidden here (XMC_FORBID_SKIP)`);
  process.stderr.write(`\n!!!!!!!! SKIPPING: ${msg} !!!!!!!!\n\n`);
  return false;
}
