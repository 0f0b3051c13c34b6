import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadBaseTokenizer } from "../src/base-tokenizer.js";
import { learnExtension } from "../src/extend-tokenizer.js";
import { fertilityCurve, fertilityCurveSvg } from "../src/fertility-curve.js";
import { countWords, loadLineEncoder, measureFertility } from "../src/fertility.js";
import { udhrLines } from "../src/regression-corpus.js";
import { readSentencePieceModel } from "../src/sentencepiece-model.js";
import { llama2FullDir, llama2ModelBytes, llama3Dir, tempDir } from "./fixtures.js";

describe("countWords", () => {
	it("should count words by spaces for English and by Intl.Segmenter for Thai", () => {
		expect(countWords("All human beings are born free", "en")).toBe(6);
		// "ทุกคนมีสิทธิ" = ทุก คน มี สิทธิ
		expect(countWords("ทุกคนมีสิทธิ", "th")).toBe(4);
	});
});

describe("measureFertility", () => {
	it("should give the same figures for Llama-2's tokenizer.model (SentencePiece) and tokenizer.json (Rust)", async () => {
		const dir = await llama2FullDir();
		const lines = await udhrLines("tha");
		const model = await measureFertility(await loadLineEncoder(join(dir, "tokenizer.model")), lines, "th");
		const json = await measureFertility(await loadLineEncoder(dir), lines, "th");
		expect(model).toEqual(json);
		expect(json.tokensPerChar).toBeGreaterThan(1);
		expect(json.tokens / json.words).toBeCloseTo(json.tokensPerWord, 10);
	});

	it("should measure a tokenizer.json of any model type (Unigram), not only BPE, and name a file it cannot load", async () => {
		// A Unigram tokenizer.json over Llama-2's own pieces and scores (as T5/XLM-R/Gemma-style files store them).
		const pieces = readSentencePieceModel(llama2ModelBytes()).pieces;
		const unigram = {
			version: "1.0",
			added_tokens: [],
			normalizer: null,
			pre_tokenizer: { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: true },
			post_processor: null,
			decoder: { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: true },
			model: { type: "Unigram", unk_id: 0, vocab: pieces.map((p) => [p.piece, p.score]), byte_fallback: true },
		};
		const dir = await tempDir("unigram");
		await writeFile(join(dir, "tokenizer.json"), JSON.stringify(unigram));
		const fertility = await measureFertility(await loadLineEncoder(dir), ["All human beings are born free"], "en");
		expect(fertility.words).toBe(6);
		expect(fertility.tokens).toBeGreaterThanOrEqual(6);
		expect(fertility.tokens).toBeLessThan(fertility.chars); // multi-character pieces were used
		await writeFile(join(dir, "tokenizer.json"), JSON.stringify({ ...unigram, model: { type: "NoSuchModel" } }));
		await expect(loadLineEncoder(dir)).rejects.toThrow(/tokenizer\.json.*cannot load/);
	});

	it("should show Llama-3 spends fewer tokens on Thai than Llama-2", async () => {
		const lines = await udhrLines("tha2");
		const llama2 = await measureFertility(await loadLineEncoder(await llama2FullDir()), lines, "th");
		const llama3 = await measureFertility(await loadLineEncoder(await llama3Dir()), lines, "th");
		expect(llama3.tokensPerWord).toBeLessThan(llama2.tokensPerWord);
	});
});

describe("fertilityCurve", () => {
	it("should fall with K on in-sample and held-out Thai and draw as SVG", async () => {
		const base = await loadBaseTokenizer(await llama2FullDir());
		const plan = await learnExtension({ base, lines: await udhrLines("tha"), lang: "th", newTokens: 400 });
		const curve = await fertilityCurve({ base, plan, ks: [100, 400], sets: { "in-sample": await udhrLines("tha"), "held-out": await udhrLines("tha2") } });
		expect(curve.points.map((p) => p.k)).toEqual([0, 100, 400]);
		for (const set of ["in-sample", "held-out"]) {
			const perWord = curve.points.map((p) => p.sets[set]?.tokensPerWord ?? 0);
			expect(perWord[1]).toBeLessThan(perWord[0] as number);
			expect(perWord[2]).toBeLessThan(perWord[1] as number);
		}
		const svg = fertilityCurveSvg(curve);
		expect(svg.startsWith("<svg")).toBe(true);
		expect(svg.match(/<polyline/g)).toHaveLength(4);
		expect(svg).toContain("held-out /word");
	});
});
