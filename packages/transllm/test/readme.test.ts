import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { cliReference, commands, configSchema, withCliReference, withConfigReference } from "../src/index.js";

describe("transllm README", () => {
	it("documents every command and flag exactly as --help prints them", () => {
		const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
		// Run `pnpm --filter transllm docs` after changing a command table.
		expect(withCliReference(readme, commands)).toBe(readme);
	});

	it("has the config reference generated from the JSON Schema, every key of it", () => {
		const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
		// Run `pnpm --filter transllm docs` after changing config-schema.ts.
		expect(withConfigReference(readme)).toBe(readme);
		for (const key of Object.keys(configSchema.properties)) expect(readme).toContain(`| \`${key}\` |`);
		expect(readme).toContain("| `languages.<lang>.corpus` |");
		expect(readme).toContain("| `kd.translation.api_key_env` |");
	});

	it("lists every command of the pipeline", () => {
		const reference = cliReference(commands);
		for (const command of ["init", "run", "status", "stage-rank", "stage-run", "corpus clean", "corpus parallel", "corpus augment", "dedup run", "dedup plan", "tokenizer extend", "tokenizer fertility", "tcot build", "tcot parse", "kd generate", "kd translate", "generate", "score", "export", "serve", "clo pairs", "clo score", "probe", "pivot-data", "train plan", "train check", "train verify"]) {
			expect(reference).toContain(`### \`transllm ${command}\``);
		}
	});
});
