import { access, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { SentencePieceProcessor } from "@sctg/sentencepiece-js";
import { describe, expect, it } from "vitest";
import { helpFor, runCli } from "@transllm/core";
import { tokenizerCommands as commands } from "../src/cli.js";
import { udhrLines } from "../src/regression-corpus.js";
import { SeededRng } from "@transllm/core";
import { readSafetensorsHeader } from "../src/safetensors.js";
import { llama2ModelOnlyDir, safetensorsBytes, tempDir } from "./fixtures.js";

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
	let stdout = "";
	let stderr = "";
	const sink = (append: (text: string) => void) => ({ write: (chunk: string) => (append(String(chunk)), true) }) as unknown as NodeJS.WritableStream;
	const code = await runCli("transllm tokenizer", commands, args, { context: { stdout: sink((t) => (stdout += t)), stderr: sink((t) => (stderr += t)) } });
	return { code, stdout, stderr };
}

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

describe("transllm tokenizer CLI", () => {
	it("should document every flag of extend, fertility and resize-embeddings", () => {
		const extend = helpFor("transllm tokenizer", commands, ["extend"]);
		for (const flag of ["--base", "--corpus", "--lang", "--new-tokens", "--out", "--patch-pretokenizer", "--special-tokens", "--checkpoint", "--init", "--pad-to-multiple-of", "--regression"]) expect(extend).toContain(flag);
		expect(helpFor("transllm tokenizer", commands, ["fertility"])).toContain("--k <list>");
		expect(helpFor("transllm tokenizer", commands, ["resize-embeddings"])).toContain("--resume");
	});

	it("should extend Llama-2 for Thai and write both tokenizer files, the id map and LLaMA-Factory settings", async () => {
		const base = await llama2ModelOnlyDir();
		const work = await tempDir("cli");
		const corpus = join(work, "th.txt");
		await writeFile(corpus, `${(await udhrLines("tha")).join("\n")}\n`);
		const out = join(work, "out");
		// Weights of the old vocabulary (ONNX external data included) are never copied; small metadata files are.
		for (const weights of ["model.onnx_data", "model.onnx.data", "pytorch_model.bin"]) await writeFile(join(base, weights), "old weights");
		await writeFile(join(base, "generation_config.json"), JSON.stringify({ bos_token_id: 1, eos_token_id: 2 }));
		const result = await run(["extend", "--base", base, "--corpus", corpus, "--lang", "th", "--new-tokens", "300", "--out", out, "--quiet"]);
		expect(result.stderr).toBe("");
		expect(result.code).toBe(0);
		expect(result.stdout).toMatch(/PASS sentencepiece-agrees/);
		expect(result.stdout).toMatch(/added 300 tokens and 3 special tokens: vocabulary 32000 → 32303/);
		for (const file of ["tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json", "id-map.json", "llamafactory.yaml", "extension-report.json"]) expect(await exists(join(out, file)), file).toBe(true);
		for (const weights of ["model.onnx_data", "model.onnx.data", "pytorch_model.bin"]) expect(await exists(join(out, weights)), weights).toBe(false);
		expect(await exists(join(out, "generation_config.json"))).toBe(true);
		const idMap = JSON.parse(await readFile(join(out, "id-map.json"), "utf8"));
		expect(idMap.tokens).toHaveLength(303);
		expect(idMap.tokens.at(-1)).toMatchObject({ token: "<TH>", id: 32302, special: true });
		expect(idMap.tokens[0].text).toMatch(/\p{Script=Thai}/u);
		expect(await readFile(join(out, "llamafactory.yaml"), "utf8")).toMatch(/additional_target: embed_tokens,lm_head\n.*add_special_tokens: <EN>,<RESPONSE>,<TH>/s);
		expect(await readFile(join(out, "llamafactory.yaml"), "utf8")).not.toMatch(/new_special_tokens/); // LLaMA-Factory ≥ 0.9.3 rejects the old key
		const config = JSON.parse(await readFile(join(out, "tokenizer_config.json"), "utf8"));
		expect(config.additional_special_tokens).toEqual(["<EN>", "<RESPONSE>", "<TH>"]);
		const spm = new SentencePieceProcessor();
		await spm.loadFromB64StringModel((await readFile(join(out, "tokenizer.model"))).toString("base64"));
		expect(Math.max(...spm.encodeIds("การประกาศสิทธิมนุษยชน"))).toBeGreaterThanOrEqual(32000);

		const curve = join(work, "curve");
		const fertility = await run(["fertility", "--corpus", corpus, "--lang", "th", "--base", base, "--k", "100,300", "--out", curve]);
		expect(fertility.code).toBe(0);
		expect(fertility.stdout).toMatch(/K=300 \(added 300\) in-sample: [\d.]+ tokens\/word/);
		expect(JSON.parse(await readFile(`${curve}.json`, "utf8")).points).toHaveLength(3);
		expect(await readFile(`${curve}.svg`, "utf8")).toMatch(/^<svg/);

		// A Llama-2-shaped checkpoint (32000 rows, hidden size 8) grows to the extended vocabulary, padded to 64.
		const checkpoint = join(work, "ckpt");
		const rng = new SeededRng("cli-ckpt");
		const matrix = (): Float32Array => Float32Array.from({ length: 32000 * 8 }, () => rng.normal(0, 0.02));
		await mkdir(checkpoint);
		await writeFile(join(checkpoint, "config.json"), JSON.stringify({ model_type: "llama", vocab_size: 32000, tie_word_embeddings: false }));
		await writeFile(join(checkpoint, "model.safetensors"), safetensorsBytes({ "model.embed_tokens.weight": { dtype: "BF16", shape: [32000, 8], values: matrix() }, "lm_head.weight": { dtype: "BF16", shape: [32000, 8], values: matrix() } }));
		const resized = await run(["resize-embeddings", "--checkpoint", checkpoint, "--tokenizer", out, "--out", join(work, "model"), "--init", "eeve", "--pad-to-multiple-of", "64", "--quiet"]);
		expect(resized.stdout).toMatch(/embeddings 32000 → 32320 rows \(untied\)/);
		const header = await readSafetensorsHeader(join(work, "model", "model.safetensors"));
		expect(header.tensors.map((t) => t.shape)).toEqual([[32320, 8], [32320, 8]]);
		expect(JSON.parse(await readFile(join(work, "model", "config.json"), "utf8")).vocab_size).toBe(32320);

		const measured = await run(["fertility", "--corpus", corpus, "--lang", "th", "--tokenizer", base, "--tokenizer", join(out, "tokenizer.model")]);
		const [before, after] = [...measured.stdout.matchAll(/: ([\d.]+) tokens\/word/g)].map((m) => Number(m[1]));
		expect(after).toBeLessThan(before as number);
	});

	it("should refuse an extension that changes English and write nothing", async () => {
		const base = await llama2ModelOnlyDir();
		const work = await tempDir("cli-fail");
		const corpus = join(work, "en.txt");
		await writeFile(corpus, (await udhrLines("eng")).join("\n"));
		const out = join(work, "out");
		const result = await run(["extend", "--base", base, "--corpus", corpus, "--lang", "en", "--new-tokens", "50", "--out", out, "--quiet"]);
		expect(result.code).toBe(1);
		expect(result.stderr).toMatch(/error \[E_CHECK_FAILED\]: .*nothing was written/);
		expect(result.stderr).toMatch(/FAIL english-regression-rust/);
		expect(await exists(out)).toBe(false);
		// The learned merges wait beside the output for --resume; a resume with changed options is refused, naming them.
		expect(await exists(`${out}.plan.json`)).toBe(true);
		const resumed = await run(["extend", "--base", base, "--corpus", corpus, "--lang", "en", "--new-tokens", "50", "--out", out, "--quiet", "--resume"]);
		expect(resumed.stderr).toMatch(/resuming with the merges learned earlier/);
		expect(resumed.code).toBe(1);
		const changed = await run(["extend", "--base", base, "--corpus", corpus, "--lang", "en", "--new-tokens", "40", "--out", out, "--quiet", "--resume"]);
		expect(changed.stderr).not.toMatch(/resuming/);
		expect(changed.code).toBe(2);
		expect(changed.stderr).toMatch(/cannot resume .*out with other settings than it was started with: newTokens 50 → 40; .*--force/);
	});

	it("should extend and resize a checkpoint in one run", async () => {
		const base = await llama2ModelOnlyDir();
		const work = await tempDir("cli-ckpt");
		const corpus = join(work, "th.txt");
		await writeFile(corpus, (await udhrLines("tha")).join("\n"));
		const checkpoint = join(work, "ckpt");
		await mkdir(checkpoint);
		const rng = new SeededRng("cli-ckpt-2");
		await writeFile(join(checkpoint, "config.json"), JSON.stringify({ model_type: "llama", vocab_size: 32000, tie_word_embeddings: true }));
		await writeFile(join(checkpoint, "model.safetensors"), safetensorsBytes({ "model.embed_tokens.weight": { dtype: "F16", shape: [32000, 4], values: Float32Array.from({ length: 128000 }, () => rng.normal(0, 0.02)) } }));
		const out = join(work, "out");
		const result = await run(["extend", "--base", base, "--corpus", corpus, "--lang", "th", "--new-tokens", "100", "--out", out, "--checkpoint", checkpoint, "--init", "mean", "--quiet"]);
		expect(result.code).toBe(0);
		expect(result.stdout).toMatch(/embeddings 32000 → 32103 rows \(tied\)/);
		expect(JSON.parse(await readFile(join(out, "config.json"), "utf8")).vocab_size).toBe(32103);
		expect(await readFile(join(out, "llamafactory.yaml"), "utf8")).toMatch(/resize_vocab: false/);
		expect(await exists(`${out}.plan.json`)).toBe(false);
	});

	it("should name a missing corpus file and a bad --new-tokens", async () => {
		const base = await llama2ModelOnlyDir();
		const missing = await run(["extend", "--base", base, "--corpus", "/nonexistent/th.txt", "--lang", "th", "--new-tokens", "10", "--out", "/tmp/x"]);
		expect(missing.code).toBe(2);
		expect(missing.stderr).toMatch(/\/nonexistent\/th\.txt: corpus file not found/);
		const bad = await run(["extend", "--base", base, "--corpus", "/nonexistent/th.txt", "--lang", "th", "--new-tokens", "many", "--out", "/tmp/x"]);
		expect(bad.code).toBe(2);
	});

	it("should refuse a corpus line over the per-line limit at once, naming it (issue 16 point 2)", async () => {
		const base = await llama2ModelOnlyDir();
		const work = await tempDir("cli-long-line");
		const corpus = join(work, "th.txt");
		await writeFile(corpus, `สวัสดี\n${"ก".repeat(3 << 20)}\nขอบคุณ\n`);
		const result = await run(["extend", "--base", base, "--corpus", corpus, "--lang", "th", "--new-tokens", "10", "--out", join(work, "out"), "--quiet"]);
		expect(result.code).toBe(2);
		expect(result.stderr).toContain(`${corpus}:2: line longer than 1048576 characters`);
		// Issue 16 point 5: an empty corpus learns nothing, and that is an error, not a tokenizer with 0 new tokens.
		const empty = join(work, "empty.txt");
		await writeFile(empty, "\n");
		const nothing = await run(["extend", "--base", base, "--corpus", empty, "--lang", "th", "--new-tokens", "10", "--out", join(work, "out-empty"), "--quiet"]);
		expect(nothing.code).toBe(2);
		expect(nothing.stderr).toContain(`${empty}: no new token learned from 0 line(s)`);
		expect(await exists(join(work, "out-empty"))).toBe(false);
	});
});
