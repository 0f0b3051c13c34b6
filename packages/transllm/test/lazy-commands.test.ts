import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadCommandTable } from "@transllm/core";
import { describe, expect, it } from "vitest";
import { commands } from "../src/commands.js";
import { lazyCommands } from "../src/lazy-commands.js";
import { renderCommandIndex } from "../src/render-command-index.js";

describe("the bin's lazy command table", () => {
	it("has a current command index (run `pnpm --filter transllm docs` after changing a command table)", async () => {
		expect(readFileSync(new URL("../src/command-index.ts", import.meta.url), "utf8")).toBe(await renderCommandIndex());
	});

	it("loads to exactly the eager table: same commands, order, descriptions and the packages' own command objects", async () => {
		const loaded = await loadCommandTable(lazyCommands);
		expect(Object.keys(loaded)).toEqual(Object.keys(commands));
		for (const [name, entry] of Object.entries(commands)) {
			expect(lazyCommands[name]?.description, name).toBe(entry.description);
			const got = loaded[name];
			if ("subcommands" in entry && got && "subcommands" in got) {
				expect(Object.keys(got.subcommands), name).toEqual(Object.keys(entry.subcommands));
				for (const [sub, command] of Object.entries(entry.subcommands)) expect(got.subcommands[sub], `${name} ${sub}`).toBe(command);
			} else expect(got, name).toBe(entry);
		}
	});

	it("starts a command without importing the packages it does not use", () => {
		// The built bin, as users run it, under a module hook that refuses the runtime package (onnxruntime) and the
		// pipeline's config schema (ajv): `transllm tokenizer --help` and `transllm --help` need neither.
		const hooks = `export async function resolve(specifier, context, next) { const found = await next(specifier, context); if (/\\/packages\\/runtime\\/|onnxruntime-node|\\/ajv\\//.test(found.url)) throw new Error("eagerly loaded " + found.url); return found; }`;
		const register = `import { register } from "node:module"; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
		const bin = fileURLToPath(new URL("../bin/transllm.js", import.meta.url));
		const run = (args: string[]) => spawnSync(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(register)}`, bin, ...args], { encoding: "utf8" });
		for (const args of [["tokenizer", "--help"], ["--help"]]) {
			const result = run(args);
			expect(result.stderr, args.join(" ")).toBe("");
			expect(result.status, args.join(" ")).toBe(0);
		}
		expect(run(["tokenizer", "--help"]).stdout).toMatch(/^  extend +Extend/m);
		// The hook does refuse what it names: the runtime's own command loads onnxruntime.
		const generate = run(["generate", "--help"]);
		expect(generate.status).not.toBe(0);
		expect(generate.stderr).toContain("eagerly loaded");
	});
});
