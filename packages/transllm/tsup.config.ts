import { defineConfig } from "tsup";
import { packageConfig } from "../../tsup.base";

// The library entry ships as ESM + CJS; the bin is ESM only (it awaits at the top level), split into chunks so that
// each command loads only its own code (lazy-commands.ts).
export default defineConfig([
	packageConfig({ index: "src/index.ts" }),
	{ ...packageConfig({ cli: "src/cli.ts" }), format: ["esm"], dts: false, clean: false, splitting: true },
]);
