import type { RollupOptions } from "rollup";
export declare function packageConfig(options: {
  dir: string;
  entries?: Record<string, string>;
  bins?: Record<string, string>;
  /** Inline `const enum` members across files (hot paths). */
  inlineConstEnums?: boolean;
}): RollupOptions[];
