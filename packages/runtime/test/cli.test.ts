import { spawnSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { udhrParagraphs } from "@transllm/udhr-text";
import { beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "../src/chat-model.js";
import { buildLlamaFixture } from "../src/fixture/index.js";
import { runtimeCli, tempDir } from "./graph-test-helpers.js";

const cli = runtimeCli;

const readJsonl = async (path: string): Promise<Record<string, unknown>[]> =>
	(await readFile(path, "utf8"))
		.trim()
		.split("\n")
		.map((line) => JSON.parse(line) as Record<string, unknown>);

describe("transllm generate / score", () => {
	let dir: string;
	let work: string;
	const queries = udhrParagraphs("en").slice(0, 6).map((q, i) => ({ id: `q${i}`, query_en: q.slice(0, 100) }));

	beforeAll(async () => {
		dir = await tempDir("runtime-cli-model");
		work = await tempDir("runtime-cli");
		await buildLlamaFixture({ dir, layers: 2, hidden: 64, heads: 4, kvHeads: 2, intermediate: 128, seed: 4 });
		const lines = queries.map((q) => JSON.stringify(q));
		lines.splice(3, 0, "{not json");
		await writeFile(join(work, "queries.jsonl"), `${lines.join("\n")}\n`);
	});

	it("should generate a JSONL file with the chat template, set bad lines aside, and resume", async () => {
		const out = join(work, "kd.jsonl");
		const args = ["generate", "--model", dir, "--input", join(work, "queries.jsonl"), "--out", out, "--batch-size", "4", "--max-new-tokens", "6", "--execution-provider", "cpu", "--on-bad-record", "skip", "--quiet"];
		const run = await cli(args);
		expect(run.stderr).toBe("");
		expect(run.code).toBe(0);
		const records = await readJsonl(out);
		expect(records.map((r) => r.id)).toEqual(queries.map((q) => q.id));
		expect(records[0]).toMatchObject({ query_en: queries[0]?.query_en, finish_reason: "length", generated_tokens: 6, execution_provider: { name: "cpu", reason: "CPU requested" } });
		expect(typeof records[0]?.response).toBe("string");
		const rejects = await readJsonl(`${out}.rejects.jsonl`);
		expect(rejects).toMatchObject([{ line: 4, reason: expect.stringContaining("invalid JSON") }]);

		// Same answers as the API with the chat template (the fixture has Llama-2's).
		const model = await loadModel(dir, { worker: false, executionProvider: "cpu" });
		const api = await model.generate({ prompts: queries.map((q) => q.query_en), chat: true, maxNewTokens: 6 });
		await model.dispose();
		expect(records.map((r) => r.response)).toEqual(api.map((r) => r.text));

		// An interrupted run: the partial output holds two records and a torn third line.
		const resumed = join(work, "kd-resumed.jsonl");
		const full = (await readFile(out, "utf8")).split("\n");
		await writeFile(`${resumed}.partial`, `${full.slice(0, 2).join("\n")}\n${(full[2] as string).slice(0, 20)}`);
		const again = await cli([...args.slice(0, 6), resumed, ...args.slice(7), "--resume"]);
		expect(again.code).toBe(0);
		expect(await readFile(resumed, "utf8")).toBe(await readFile(out, "utf8"));
		expect((await cli(args)).stderr).toMatch(/exists: pass overwrite/);

		// Issue 16 point 1: a resume with other settings is refused, naming each change; point 6: --force starts over.
		const mixed = join(work, "kd-mixed.jsonl");
		await writeFile(`${mixed}.partial`, `${full.slice(0, 2).join("\n")}\n`);
		await writeFile(`${mixed}.settings.json`, await readFile(`${out}.settings.json`));
		const changed = await cli([...args.slice(0, 6), mixed, ...args.slice(7), "--resume", "--temperature", "0.7", "--max-new-tokens", "7"]);
		expect(changed.code).toBe(2);
		expect(changed.stderr).toMatch(/cannot resume .*kd-mixed\.jsonl with other settings .*maxNewTokens 6 → 7, temperature 0 → 0\.7/);
		expect(changed.stderr).not.toMatch(/\n\s+at /);
		const forced = await cli([...args.slice(0, 6), mixed, ...args.slice(7), "--force"]);
		expect(forced.code).toBe(0);
		expect(await readFile(mixed, "utf8")).toBe(await readFile(out, "utf8"));
	});

	it("should stream a single --prompt to stdout and report the finish reason", async () => {
		const run = await cli(["generate", "--model", dir, "--prompt", "All human beings", "--no-chat-template", "--max-new-tokens", "5", "--execution-provider", "cpu"]);
		expect(run.code).toBe(0);
		const model = await loadModel(dir, { worker: false, executionProvider: "cpu" });
		const [expected] = await model.generate({ prompts: ["All human beings"], maxNewTokens: 5 });
		await model.dispose();
		expect(run.stdout).toBe(`${expected?.text}\n`);
		expect(run.stderr).toContain("[length, 5 tokens, cpu: CPU requested]");
	});

	it("should score pairs like the API and reject bad options and records", async () => {
		const pairs = queries.slice(0, 4).map((q, i) => ({ id: i, prompt: q.query_en, response: (udhrParagraphs("en")[10 + i] as string).slice(0, 60) }));
		await writeFile(join(work, "pairs.jsonl"), `${pairs.map((p) => JSON.stringify(p)).join("\n")}\n`);
		const out = join(work, "scores.jsonl");
		const run = await cli(["score", "--model", dir, "--input", join(work, "pairs.jsonl"), "--out", out, "--batch-size", "3", "--per-token", "--no-chat-template", "--execution-provider", "cpu", "--quiet"]);
		expect(run.code).toBe(0);
		const records = await readJsonl(out);
		const model = await loadModel(dir, { worker: false, executionProvider: "cpu" });
		const api = await model.score({ pairs });
		await model.dispose();
		records.forEach((record, i) => {
			expect(record.id).toBe(i);
			expect(record.logprob_sum).toBeCloseTo(api[i]?.sum ?? 0, 4);
			expect(record.tokens).toBe(api[i]?.tokens);
			expect(record.token_logprobs).toHaveLength(api[i]?.tokens ?? -1);
		});

		await writeFile(join(work, "bad.jsonl"), `${JSON.stringify({ prompt: "x" })}\n`);
		const bad = await cli(["score", "--model", dir, "--input", join(work, "bad.jsonl"), "--execution-provider", "cpu", "--quiet"]);
		expect(bad.code).toBe(2);
		expect(bad.stderr).toMatch(/bad\.jsonl:1: field "response" must be a non-empty string/);
		const badFlag = await cli(["generate", "--model", dir, "--prompt", "x", "--top-p", "1.5"]);
		expect(badFlag.code).toBe(2);
		expect(badFlag.stderr).toMatch(/--top-p must be ≤ 1/);
		const both = await cli(["generate", "--model", dir]);
		expect(both.stderr).toMatch(/either --prompt .* or --input/);
	});

	it("should document every flag in the generated help", async () => {
		const help = await cli(["generate", "--help"]);
		for (const flag of ["--model", "--prompt", "--input", "--batch-size", "--max-new-tokens", "--temperature", "--top-k", "--top-p", "--repetition-penalty", "--seed", "--stop", "--chat", "--no-chat-template", "--execution-provider", "--out", "--resume", "--decode-loop"]) {
			expect(help.stdout).toContain(flag);
		}
	});

	it("should run end to end as the transllm binary (worker thread, auto provider)", () => {
		const require = createRequire(import.meta.url);
		const cliPath = fileURLToPath(new URL("../../transllm/src/cli.ts", import.meta.url));
		const result = spawnSync(process.execPath, ["--conditions=source", "--import", require.resolve("tsx"), cliPath, "generate", "--model", dir, "--prompt", "Everyone has the right", "--max-new-tokens", "4"], { encoding: "utf8", timeout: 120_000 });
		expect(result.stderr).toMatch(/\[length, 4 tokens, cpu: auto: CUDA unavailable/);
		expect(result.status).toBe(0);
		expect(result.stdout.length).toBeGreaterThan(1);
	});
});
