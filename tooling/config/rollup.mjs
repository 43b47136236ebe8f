// Rollup config factory shared by every package: ESM JavaScript plus bundled .d.ts.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { dts } from "rollup-plugin-dts";
import esbuild from "rollup-plugin-esbuild";

/**
 * Build one package. `entries` maps output names to source files, e.g.
 * `{ index: "src/index.ts" }`. Dependencies and node built-ins stay external.
 * `bins` are entries that get a shebang and no .d.ts.
 */
export function packageConfig({ dir, entries = { index: "src/index.ts" }, bins = {} }) {
  const pkg = JSON.parse(readFileSync(resolve(dir, "package.json"), "utf8"));
  const deps = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})];
  const external = (id) => id.startsWith("node:") || deps.some((d) => id === d || id.startsWith(`${d}/`));
  const js = {
    input: { ...entries, ...bins },
    external,
    plugins: [esbuild({ target: "node20", tsconfig: resolve(dir, "tsconfig.json") })],
    output: {
      dir: resolve(dir, "dist"),
      format: "es",
      entryFileNames: "[name].js",
      chunkFileNames: "chunks/[name]-[hash].js",
      sourcemap: true,
      banner: (chunk) => (chunk.isEntry && chunk.name in bins ? "#!/usr/bin/env node" : ""),
    },
  };
  const configs = [js];
  if (Object.keys(entries).length > 0) {
    configs.push({
      input: entries,
      external,
      plugins: [dts({ tsconfig: resolve(dir, "tsconfig.json"), compilerOptions: { customConditions: [] } })],
      output: { dir: resolve(dir, "dist"), format: "es", entryFileNames: "[name].d.ts" },
    });
  }
  return configs;
}
