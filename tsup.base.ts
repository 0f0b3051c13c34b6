import type { Options } from "tsup";

/** Shared tsup settings: ESM first, CJS beside it, .d.ts for both, Node 20. */
export function packageConfig(entry: Record<string, string>): Options {
	return {
		entry,
		format: ["esm", "cjs"],
		dts: true,
		sourcemap: true,
		clean: true,
		target: "node20",
		platform: "node",
		splitting: false,
		shims: true,
	};
}
