// Rollup config factory shared by every package: ESM JavaScript plus bundled .d.ts.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { dts } from "rollup-plugin-dts";
import esbuild from "rollup-plugin-esbuild";

/**
 * Inline `enum` and `const enum` members across files, as TypeScript's compiler does for const enums: esbuild transforms
 * one file at a time and would otherwise turn every `Method.E` in a hot switch into a
 * property load on an enum object. Members must be numeric literals, shifts, or references
 * to earlier members of the same enum.
 */
function constEnumInline(srcDir) {
  const enums = new Map();
  const walk = (d) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f.endsWith(".ts")) {
        const text = readFileSync(p, "utf8")
          .replace(/\/\*[\s\S]*?\*\//g, "")
          .replace(/\/\/.*$/gm, "");
        for (const m of text.matchAll(/(?:const\s+)?enum\s+(\w+)\s*\{([^}]*)\}/g)) {
          const members = new Map();
          let next = 0;
          for (const part of m[2].split(",")) {
            const t = part.trim();
            if (!t) continue;
            const [name, expr] = t.split("=").map((x) => x.trim());
            let v = next;
            if (expr !== undefined) {
              const scope = Object.fromEntries(members);
              v = Function(...Object.keys(scope), `return (${expr});`)(...Object.values(scope));
            }
            if (typeof v !== "number" || !Number.isFinite(v))
              throw new Error(`const enum ${m[1]}.${name}: not a number`);
            members.set(name, v);
            next = v + 1;
          }
          enums.set(m[1], members);
        }
      }
    }
  };
  walk(srcDir);
  const names = [...enums.keys()];
  const re = names.length ? new RegExp(`\\b(${names.join("|")})\\.([A-Za-z_]\\w*)\\b`, "g") : null;
  return {
    name: "xmc-const-enum-inline",
    transform(code, id) {
      if (!re || !id.endsWith(".ts")) return null;
      const out = code.replace(re, (all, e, m, offset) => {
        const v = enums.get(e).get(m);
        // Leave declarations and re-exports alone.
        if (v === undefined || code[offset - 1] === ".") return all;
        return `(${v})`;
      });
      return out === code ? null : { code: out, map: null };
    },
  };
}

/**
 * Build one package. `entries` maps output names to source files, e.g.
 * `{ index: "src/index.ts" }`. Dependencies and node built-ins stay external.
 * `bins` are entries that get a shebang and no .d.ts.
 */
export function packageConfig({
  dir,
  entries = { index: "src/index.ts" },
  bins = {},
  inlineConstEnums = false,
}) {
  const pkg = JSON.parse(readFileSync(resolve(dir, "package.json"), "utf8"));
  const deps = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})];
  const external = (id) => id.startsWith("node:") || deps.some((d) => id === d || id.startsWith(`${d}/`));
  const js = {
    input: { ...entries, ...bins },
    external,
    plugins: [
      ...(inlineConstEnums ? [constEnumInline(resolve(dir, "src"))] : []),
      esbuild({ target: "node20", tsconfig: resolve(dir, "tsconfig.json") }),
    ],
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
