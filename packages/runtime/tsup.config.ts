import { defineConfig } from "tsup";
import { packageConfig } from "../../tsup.base";

// The worker entry is its own file: loadModel starts it with `new Worker(new URL("./worker.js", import.meta.url))`.
export default defineConfig(packageConfig({ index: "src/index.ts", worker: "src/worker.ts" }));
