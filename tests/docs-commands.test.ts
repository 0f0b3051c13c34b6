import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { runCli } from "@transllm/core";
import { commands } from "transllm";
import { describe, expect, it } from "vitest";
import { buildLlamaFixture } from "../packages/runtime/src/fixture/index.js";

// Issue 16 point 10: what the docs tell a user to type works from a clone.
const ROOT = fileURLToPath(new URL("..", import.meta.url));

async function transllm(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
	let stdout = "";
	let stderr = "";
	const sink = (append: (text: string) => void) => new Writable({ write: (chunk, _encoding, done) => (append(String(chunk)), done()) });
	const code = await runCli("transllm", commands, args, { context: { stdout: sink((t) => (stdout += t)), stderr: sink((t) => (stderr += t)) } });
	return { code, stdout, stderr };
}

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
