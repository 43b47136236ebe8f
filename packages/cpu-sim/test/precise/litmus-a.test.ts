import { litmusSuite } from "./litmus.ts";

litmusSuite("litmus L1-L8 (XMC-MODEL.md)", (f) => /^L0[1-8]/.test(f));
