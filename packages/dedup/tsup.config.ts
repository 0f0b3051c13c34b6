import { defineConfig } from "tsup";
import { packageConfig } from "../../tsup.base";

// The hash worker is its own entry: worker_threads load it by file name next to index.js.
export default defineConfig(packageConfig({ index: "src/index.ts", "hash-worker": "src/hash-worker.ts" }));
