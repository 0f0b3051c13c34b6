import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { readLexicon } from "../packages/prom-probe/src/lexicon.js";
import { buildLlamaFixture } from "../packages/runtime/src/fixture/index.js";
import { transllm } from "./helpers/run-transllm.js";

// Issue 16 point 5: a run that produces nothing useful fails (non-zero, a message saying why), never exit 0.
const DATA = fileURLToPath(new URL("../examples/quickstart/data/", import.meta.url));
let dir: string;

beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), "nothing-useful-"));
	await writeFile(join(dir, "empty.jsonl"), "");
	await writeFile(join(dir, "empty.txt"), "\n\n");
});

describe("runs that would produce nothing useful", () => {
	it("tcot build --langs ar on Thai data fails, saying every record was filtered", async () => {
		const run = await transllm(["tcot", "build", "--translated", join(DATA, "kd.translated.th.jsonl"), "--langs", "ar", "-o", join(dir, "tcot-ar")]);
		expect(run.code).toBe(2);
		expect(run.stderr).toMatch(/no training instance: 0 KD and \d+ translated records read, \d+ of them filtered out by --langs ar/);
	});

	it("tokenizer fertility on an empty corpus fails instead of reporting 0.000 tokens/word", async () => {
		const run = await transllm(["tokenizer", "fertility", "--corpus", join(dir, "empty.txt"), "--lang", "th", "--tokenizer", "x"]);
		expect(run.code).toBe(2);
		expect(run.stderr).toContain(`${join(dir, "empty.txt")}: the corpus has no text lines`);
	});

	it("clo validate on an empty file is not ok", async () => {
		const run = await transllm(["clo", "validate", "--file", join(dir, "empty.jsonl"), "--batch-size", "2"]);
		expect(run.code).not.toBe(0);
		expect(run.stdout + run.stderr).toMatch(/holds no preference rows/);
	});

	it("generate on an empty input fails", async () => {
		const model = join(dir, "model");
		await buildLlamaFixture({ dir: model, layers: 1, hidden: 32, heads: 2, kvHeads: 1, intermediate: 64, seed: 1 });
		const run = await transllm(["generate", "--model", model, "--input", join(dir, "empty.jsonl"), "--out", join(dir, "answers.jsonl"), "--execution-provider", "cpu", "--quiet"]);
		expect(run.code).toBe(2);
		expect(run.stderr).toContain(`${join(dir, "empty.jsonl")}: the input holds no record: nothing was produced`);
		const kd = await transllm(["kd", "generate", "--queries", join(dir, "empty.jsonl"), "--model", model, "--execution-provider", "cpu", "--out", join(dir, "kd.jsonl"), "--quiet"]);
		expect(kd.code).toBe(2);
		expect(kd.stderr).toContain(`${join(dir, "empty.jsonl")} holds no record to process: nothing was produced`);
	});

	it("pivot-data on an empty input, or one whose every record is rejected, fails and leaves no output", async () => {
		const run = await transllm(["pivot-data", "--input", join(dir, "empty.jsonl"), "--lang", "th", "--out", join(dir, "pivot")]);
		expect(run.code).toBe(2);
		expect(run.stderr).toContain(`${join(dir, "empty.jsonl")}: the input holds no record: nothing was produced`);
		await writeFile(join(dir, "bad.jsonl"), "{not json\n");
		const skipped = await transllm(["pivot-data", "--input", join(dir, "bad.jsonl"), "--lang", "th", "--out", join(dir, "pivot-bad"), "--on-bad-record", "skip"]);
		expect(skipped.code).toBe(2);
		expect(skipped.stderr).toMatch(/every record was rejected \(1, see .*target\.jsonl\.rejects\.jsonl\): nothing was produced/);
		expect(existsSync(join(dir, "pivot", "english.jsonl"))).toBe(false);
	});

	it("a probe lexicon line that is not UTF-8 is an error naming it, never an example", async () => {
		const path = join(dir, "lexicon.txt");
		await writeFile(path, Buffer.concat([Buffer.from("water น้ำ\nfire "), Buffer.from([0xe0, 0xb9]), Buffer.from("\n")]));
		await expect(readLexicon(path, { targetLang: "th" })).rejects.toThrow(`${path}:2: not valid UTF-8`);
	});
});
