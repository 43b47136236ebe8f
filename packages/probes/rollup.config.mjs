import { packageConfig } from "@xmc/tooling/rollup";

export default packageConfig({ dir: import.meta.dirname });
