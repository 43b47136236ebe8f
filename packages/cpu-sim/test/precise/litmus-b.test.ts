import { litmusSuite } from "./litmus.ts";

litmusSuite("litmus L9-L16 (XMC-MODEL.md)", (f) => !/^L0[1-8]/.test(f));
