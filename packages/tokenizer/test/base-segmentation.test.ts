import { describe, expect, it } from "vitest";
import { loadBaseTokenizer } from "../src/base-tokenizer.js";
import { BpeEncoder } from "../src/bpe-encoder.js";
import { encodeLinesRust, rustTokenizer } from "../src/hf-tokenizers.js";
import { PreTokenizer } from "../src/pre-tokenizer.js";
import { startingTokenizerJson } from "../src/extend-tokenizer.js";
import { defaultRegressionCorpus, udhrLines } from "../src/regression-corpus.js";
import { llama2FullDir, llama3Dir, mistralDir } from "./fixtures.js";

// Continued BPE learns on the base segmentation computed by PreTokenizer + BpeEncoder (fast, in JS); it must be
// exactly what the Rust tokenizers library produces for the same text.
describe("PreTokenizer + BpeEncoder", () => {
	for (const [name, dir, patch] of [
		["Llama-2", llama2FullDir, false],
		["Mistral", mistralDir, false],
		["Llama-3", llama3Dir, false],
		["Llama-3 with the combining-mark patch", llama3Dir, true],
	] as const) {
		it(`should segment like the Rust tokenizers library: ${name}`, async () => {
			const base = await loadBaseTokenizer(await dir());
			const json = startingTokenizerJson(base, patch);
			const lines = [...(await udhrLines("tha")), ...(await udhrLines("tha2")).slice(0, 40), ...(await defaultRegressionCorpus({ codeLines: 200 }))];
			const rust = await encodeLinesRust(rustTokenizer(json), lines);
			const preTokenizer = new PreTokenizer(json, base.family);
			const encoder = new BpeEncoder(json.model);
			lines.forEach((line, i) => {
				expect(preTokenizer.split(line).flatMap((word) => encoder.encode(word)), line).toEqual(rust[i]?.tokens);
			});
		});
	}
});
