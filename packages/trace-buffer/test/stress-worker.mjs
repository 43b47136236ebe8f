// Worker entry for the stress test: Node cannot start a worker from a .ts file, so this plain
// module loads the TypeScript writer through tsx (a devDependency of this package).
import { tsImport } from "tsx/esm/api";

await tsImport("./stress-writer.ts", import.meta.url);
