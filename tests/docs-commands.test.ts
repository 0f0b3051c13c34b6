import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CliCommand, CliGroup, CommandTable } from "@transllm/core";
import { commands } from "transllm";
import { describe, expect, it } from "vitest";
import { buildLlamaFixture } from "../packages/runtime/src/fixture/index.js";
import { transllm } from "./helpers/run-transllm.js";

// Issue 16 point 10: what the docs tell a user to type works from a clone.
const ROOT = fileURLToPath(new URL("..", import.meta.url));

describe("the documented commands", () => {
	it("puts transllm on the PATH of a clone: pnpm exec transllm / npx transllm run the built CLI", () => {
		const run = spawnSync(join(ROOT, "node_modules", ".bin", "transllm"), ["--version"], { cwd: ROOT, encoding: "utf8" });
		expect(run.stderr).toBe("");
		expect(run.status).toBe(0);
		expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
		for (const doc of ["README.md", "docs/pipeline.md"]) expect(readFileSync(join(ROOT, doc), "utf8")).toContain("npx -y pnpm@10 exec transllm");
	});

	it("parses what generate writes: transllm generate … --out answers.jsonl, then transllm tcot parse -i answers.jsonl", async () => {
		const dir = await mkdtemp(join(tmpdir(), "docs-chain-"));
		const model = join(dir, "model");
		await buildLlamaFixture({ dir: model, layers: 1, hidden: 32, heads: 2, kvHeads: 1, intermediate: 64, seed: 2 });
		await writeFile(join(dir, "queries-th.jsonl"), `${JSON.stringify({ id: "q1", query: "สวัสดี" })}\n${JSON.stringify({ id: "q2", query: "ขอบคุณ" })}\n`);
		const generated = await transllm(["generate", "--model", model, "--input", join(dir, "queries-th.jsonl"), "--out", join(dir, "answers.jsonl"), "--max-new-tokens", "4", "--execution-provider", "cpu", "--quiet"]);
		expect(generated.code, generated.stderr).toBe(0);
		const parsed = await transllm(["tcot", "parse", "-i", join(dir, "answers.jsonl"), "-o", join(dir, "parsed.jsonl"), "--lang", "th"]);
		expect(parsed.code, parsed.stderr).toBe(0);
		const records = (await readFile(join(dir, "parsed.jsonl"), "utf8")).trim().split("\n").map((line) => JSON.parse(line) as { id: string; missing: string[] });
		expect(records.map((r) => r.id)).toEqual(["q1", "q2"]);
	});
});

/** Every `transllm …` line in the shell blocks of the READMEs, docs/ and the recipes (their runnable blocks also run), with where it is. */
function documentedLines(): { where: string; argv: string[] }[] {
	const files = ["README.md", ...["docs", "docs/recipes"].flatMap((dir) => readdirSync(join(ROOT, dir)).filter((name) => name.endsWith(".md")).map((name) => `${dir}/${name}`)), ...readdirSync(join(ROOT, "packages")).map((name) => `packages/${name}/README.md`), "examples/quickstart/README.md"];
	const found: { where: string; argv: string[] }[] = [];
	for (const file of files) {
		let text: string;
		try {
			text = readFileSync(join(ROOT, file), "utf8");
		} catch {
			continue;
		}
		let fence: "shell" | "other" | undefined;
		text.split("\n").forEach((raw, index) => {
			if (/^\s*```/.test(raw)) {
				fence = fence !== undefined ? undefined : /^```(sh|bash|shell)?$/.test(raw.trim()) ? "shell" : "other";
				return;
			}
			if (fence !== "shell") return;
			// Environment assignments first (KEY=… transllm …), a comment after.
			const line = raw.replace(/\s+#.*$/, "").replace(/^\s*(?:[A-Z_]+=\S*\s+)*/, "");
			if (!line.startsWith("transllm ")) return;
			const argv = (line.match(/"[^"]*"|'[^']*'|\S+/g) ?? []).slice(1).map((word) => word.replace(/^["']|["']$/g, ""));
			found.push({ where: `${file}:${index + 1}`, argv });
		});
	}
	return found;
}

describe("every transllm line of the docs", () => {
	const lines = documentedLines();

	it("finds the documented commands", () => {
		expect(lines.length).toBeGreaterThan(30);
	});

	it("names a command that exists and only flags it has", () => {
		const problems: string[] = [];
		for (const { where, argv } of lines) {
			let table: CommandTable = commands;
			let command: CliCommand | undefined;
			let rest = argv;
			while (rest.length > 0 && !(rest[0] as string).startsWith("-")) {
				const entry = table[rest[0] as string] as CliCommand | CliGroup | undefined;
				if (entry === undefined) break;
				rest = rest.slice(1);
				if ("subcommands" in entry) table = entry.subcommands;
				else {
					command = entry;
					break;
				}
			}
			if (command === undefined) {
				if (!argv.includes("--help") && !argv.includes("--version") && argv[0] !== "…") problems.push(`${where}: no command "transllm ${argv.slice(0, 2).join(" ")}"`);
				continue;
			}
			const longs = new Set(Object.keys(command.options));
			const shorts = new Set(Object.values(command.options).flatMap((option) => (option.short ? [option.short] : [])));
			for (const word of rest) {
				const long = /^--([a-z][a-z0-9-]*)/.exec(word)?.[1];
				if (long !== undefined && !longs.has(long) && long !== "help") problems.push(`${where}: transllm … has no flag --${long}`);
				const short = /^-([a-zA-Z])$/.exec(word)?.[1];
				if (short !== undefined && !shorts.has(short)) problems.push(`${where}: transllm … has no flag -${short}`);
			}
		}
		expect(problems).toEqual([]);
	});
});
