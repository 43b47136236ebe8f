#!/usr/bin/env node
// `npm start` / `npm test` entry: everything from a fresh clone with only Node 20 and npm.
// Installs the pinned pnpm through npx, installs with the frozen lockfile, builds, then
// runs the demo (start) or every check and test (test), ending with "N passed, N failed".
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const PNPM = ["--yes", "pnpm@12.4.2"];
const mode = process.argv[2];

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}
function pnpm(args, opts) {
  return sh("npx", [...PNPM, ...args], opts);
}
function must(status, what) {
  if (status !== 0) {
    process.stderr.write(`xmc: ${what} failed (exit ${status})\n`);
    process.exit(status);
  }
}

function install() {
  const quiet = process.env.CI ? ["--reporter=append-only"] : [];
  must(pnpm(["install", "--frozen-lockfile", ...quiet]), "pnpm install --frozen-lockfile");
}
function build() {
  must(pnpm(["exec", "turbo", "run", "build", "--output-logs=errors-only"]), "build");
}

function workspaceDirs() {
  const dirs = [];
  for (const group of ["packages", "apps", "tooling"]) {
    const g = join(root, group);
    if (!existsSync(g)) continue;
    for (const d of readdirSync(g)) {
      if (existsSync(join(g, d, "package.json"))) dirs.push(join(g, d));
    }
  }
  return dirs;
}

if (mode === "start") {
  install();
  build();
  // The reference app's demo: a 4-thread program traced on 4 CPUs, written to ./xmc-demo.
  process.exit(sh("node", ["apps/cli/dist/xmc.js", "demo"]));
} else if (mode === "test") {
  install();
  build();
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const check = (name, status) => {
    if (status === 0) passed++;
    else {
      failed++;
      process.stderr.write(`xmc: check "${name}" FAILED\n`);
    }
  };
  check(
    "gen:check (generated files are fresh)",
    pnpm(["exec", "turbo", "run", "gen:check", "--output-logs=errors-only"]),
  );
  check("lint (biome check)", pnpm(["exec", "biome", "check", "."]));
  // tsc over src, tests and benches (the rollup build checks only what it bundles).
  check("typecheck (tsc)", pnpm(["exec", "turbo", "run", "typecheck", "--output-logs=errors-only"]));
  const dirs = workspaceDirs();
  for (const d of dirs) rmSync(join(d, ".vitest-results.json"), { force: true });
  const status = pnpm(["exec", "turbo", "run", "test", "--continue", "--concurrency=1"]);
  for (const d of dirs) {
    const pkg = JSON.parse(readFileSync(join(d, "package.json"), "utf8"));
    if (!pkg.scripts?.test) continue;
    const f = join(d, ".vitest-results.json");
    if (!existsSync(f)) {
      failed++;
      process.stderr.write(`xmc: ${pkg.name}: no test results (the test run crashed)\n`);
      continue;
    }
    const r = JSON.parse(readFileSync(f, "utf8"));
    passed += r.numPassedTests ?? 0;
    failed += r.numFailedTests ?? 0;
    skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    // A suite that failed to load counts as a failure even if it had no tests.
    for (const s of r.testResults ?? []) {
      if (s.status === "failed" && (s.assertionResults ?? []).length === 0) failed++;
    }
    process.stdout.write(`${pkg.name}: ${r.numPassedTests} passed, ${r.numFailedTests} failed\n`);
  }
  if (status !== 0 && failed === 0) failed++;
  process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
  process.exit(failed === 0 ? 0 : 1);
} else {
  process.stderr.write("usage: node tooling/scripts/run.mjs start|test\n");
  process.exit(2);
}
