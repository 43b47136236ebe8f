import type { RollupOptions } from "rollup";
export declare function packageConfig(options: {
  dir: string;
  entries?: Record<string, string>;
  bins?: Record<string, string>;
}): RollupOptions[];
