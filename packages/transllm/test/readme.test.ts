import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { cliReference, commands, withCliReference } from "../src/index.js";

describe("transllm README", () => {
	it("documents every command and flag exactly as --help prints them", () => {
		const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
		// Run `pnpm --filter transllm docs` after changing a command table.
		expect(withCliReference(readme, commands)).toBe(readme);
	});

	it("lists every command of the pipeline", () => {
		const reference = cliReference(commands);
		for (const command of ["corpus clean", "corpus parallel", "corpus augment", "dedup run", "dedup plan", "tokenizer extend", "tokenizer fertility", "tcot build", "tcot parse", "kd generate", "kd translate", "generate", "score", "serve", "clo pairs", "clo score", "probe", "pivot-data"]) {
			expect(reference).toContain(`### \`transllm ${command}\``);
		}
	});
});
