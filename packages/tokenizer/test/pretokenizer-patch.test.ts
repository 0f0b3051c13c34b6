import { Tokenizer } from "tokenizers";
import { describe, expect, it } from "vitest";
import { loadBaseTokenizer } from "../src/base-tokenizer.js";
import { patchCombiningMarks, patchPreTokenizer } from "../src/pretokenizer-patch.js";
import { defaultRegressionCorpus } from "../src/regression-corpus.js";
import { llama3Dir } from "./fixtures.js";

describe("patchPreTokenizer", () => {
	it("should let \\p{L} carry combining marks inside and outside character classes", () => {
		expect(patchCombiningMarks("[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}")).toBe("[^\\r\\n\\p{L}\\p{M}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}{1,3}");
	});

	it("should keep Thai words whole in Llama-3's pre-tokenizer and split English and code exactly as before", async () => {
		const base = await loadBaseTokenizer(await llama3Dir());
		const original = Tokenizer.fromString(JSON.stringify(base.tokenizerJson));
		const patched = Tokenizer.fromString(JSON.stringify({ ...base.tokenizerJson, pre_tokenizer: patchPreTokenizer(base.tokenizerJson.pre_tokenizer) }));
		const words = (t: Tokenizer, text: string): string[] => (t.getPreTokenizer()?.preTokenizeString(text) ?? []).map(([w]) => w);
		// Without the patch, the vowel ิ and tone mark ่ (\p{Mn}) cut "สิทธิ" and "ที่" apart.
		expect(words(original, "สิทธิ ที่")).not.toEqual(words(patched, "สิทธิ ที่"));
		expect(words(patched, "สิทธิ ที่").length).toBe(2);
		for (const line of await defaultRegressionCorpus({ codeLines: 200 })) expect(words(patched, line)).toEqual(words(original, line));
	});
});
