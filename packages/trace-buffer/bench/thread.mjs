// Worker entry: Node cannot start a worker from a .ts file, so this loads thread.ts through
// tsx (a devDependency of this package).
import { tsImport } from "tsx/esm/api";

await tsImport("./thread.ts", import.meta.url);
