import { defineConfig } from "vitest/config";

// Tests import workspace packages through the "source" export condition, so they run against src/
// (no stale dist) while users get the built ESM/CJS files.
export default defineConfig({
	resolve: { conditions: ["source"] },
	ssr: { resolve: { conditions: ["source"], externalConditions: ["source"] } },
	test: {
		include: ["packages/*/test/**/*.test.ts", "tests/**/*.test.ts", "docs/test/**/*.test.ts"],
		testTimeout: 120_000,
		hookTimeout: 300_000,
		pool: "forks",
	},
});
