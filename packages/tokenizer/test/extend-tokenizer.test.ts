import { beforeAll, describe, expect, it } from "vitest";
import { loadBaseTokenizer } from "../src/base-tokenizer.js";
import type { BaseTokenizer } from "../src/base-tokenizer.js";
import { byteLevelText } from "@transllm/core";
import { buildExtendedTokenizer, learnExtension } from "../src/extend-tokenizer.js";
import type { ExtendedTokenizer, ExtensionPlan } from "../src/extend-tokenizer.js";
import { checkExtension } from "../src/extension-checks.js";
import type { CheckReport } from "../src/extension-checks.js";
import { encodeLinesRust, rustTokenizer } from "../src/hf-tokenizers.js";
import { defaultRegressionCorpus, udhrLines } from "../src/regression-corpus.js";
import { PieceType } from "../src/sentencepiece-model.js";
import { transllmSpecialTokens } from "../src/special-tokens.js";
import { readMerges } from "../src/tokenizer-json.js";
import { llama2FullDir, llama2ModelOnlyDir, llama3Dir, mistralDir } from "./fixtures.js";

const THAI = /\p{Script=Thai}/u;

interface Case {
	base: BaseTokenizer;
	plan: ExtensionPlan;
	extended: ExtendedTokenizer;
	report: CheckReport;
}

async function extend(dir: string, k: number, patch = false): Promise<Case> {
	const base = await loadBaseTokenizer(dir);
	const training = await udhrLines("tha");
	const plan = await learnExtension({ base, lines: training, lang: "th", newTokens: k, patchPreTokenizer: patch });
	const extended = buildExtendedTokenizer(base, plan, { specialTokens: transllmSpecialTokens("th") });
	const report = await checkExtension({ base, plan, extended, regression: await defaultRegressionCorpus({ codeLines: 300 }), training });
	expectUniqueTokens(extended);
	return { base, plan, extended, report };
}

function expectUniqueTokens(extended: ExtendedTokenizer): void {
	const tokens = extended.newTokens.map((t) => t.token);
	expect(new Set(tokens).size).toBe(tokens.length);
	expect(new Set(Object.values(extended.tokenizerJson.model.vocab)).size).toBe(Object.keys(extended.tokenizerJson.model.vocab).length);
}

function expectChecksPass(report: CheckReport, names: string[]): void {
	expect(report.checks.map((c) => c.name).sort()).toEqual([...names].sort());
	for (const check of report.checks) expect(check.ok, `${check.name}: ${check.summary} ${JSON.stringify(check.examples)}`).toBe(true);
}

describe("extension of SentencePiece BPE (Llama-2, tokenizer.model + tokenizer.json)", () => {
	let c: Case;
	beforeAll(async () => {
		c = await extend(await llama2FullDir(), 600);
	});

	it("should pass every check, SentencePiece agreement included", () => {
		expectChecksPass(c.report, ["english-regression-rust", "english-regression-js", "decode-round-trip", "new-tokens-produced", "sentencepiece-agrees"]);
		expect(c.report.checks.find((x) => x.name === "sentencepiece-agrees")?.checked).toBeGreaterThan(300);
	});

	it("should name tokenizer_class PreTrainedTokenizerFast, not LlamaTokenizer (transformers 5 would ignore tokenizer.json's normalizer)", () => {
		expect(c.base.tokenizerConfig?.tokenizer_class).toBe("LlamaTokenizer");
		expect(c.extended.tokenizerConfig?.tokenizer_class).toBe("PreTrainedTokenizerFast");
	});

	it("should add Thai characters the vocabulary lacks first, then Thai merges, with ids after 31999", () => {
		const { newTokens } = c.extended;
		expect(newTokens).toHaveLength(600);
		expect(newTokens.map((t) => t.id)).toEqual(Array.from({ length: 600 }, (_, i) => 32000 + i));
		const chars = newTokens.filter((t) => !t.merge);
		expect(chars.length).toBeGreaterThan(0);
		expect(newTokens.slice(0, chars.length).every((t) => !t.merge && [...t.token].length === 1)).toBe(true);
		for (const token of newTokens) expect(token.token).toMatch(THAI);
		// "ใ" is not in Llama-2's vocabulary: it falls back to its three UTF-8 bytes.
		expect(newTokens.find((t) => t.token === "ใ")?.baseTokens).toEqual(["<0xE0>", "<0xB9>", "<0x83>"]);
	});

	it("should score new pieces below every existing score, in learned order, and keep special tokens user-defined", () => {
		const pieces = c.extended.sentencePiece?.pieces ?? [];
		const base = c.base.sentencePiece?.pieces ?? [];
		const lowest = Math.min(...base.map((p) => p.score));
		const added = pieces.slice(32000, 32600);
		expect(added.every((p) => p.type === PieceType.NORMAL && p.score < lowest)).toBe(true);
		for (let i = 1; i < added.length; i++) expect((added[i] as { score: number }).score).toBeLessThan((added[i - 1] as { score: number }).score);
		expect(pieces.slice(32600).map((p) => [p.piece, p.type])).toEqual([
			["<EN>", PieceType.USER_DEFINED],
			["<RESPONSE>", PieceType.USER_DEFINED],
			["<TH>", PieceType.USER_DEFINED],
		]);
		expect(c.extended.specialTokens).toEqual([
			{ token: "<EN>", id: 32600 },
			{ token: "<RESPONSE>", id: 32601 },
			{ token: "<TH>", id: 32602 },
		]);
		// The base pieces are untouched objects (written back byte for byte).
		expect(pieces.slice(0, 32000)).toEqual(base);
	});

	it("should extend a SentencePiece model with more pieces than a call's arguments can hold (Gemma's 256k)", () => {
		// 200k more NORMAL pieces, in tokenizer.model and tokenizer.json alike, scored below Llama-2's lowest.
		const filler = 200_000;
		const sentencePiece = c.base.sentencePiece;
		if (!sentencePiece) throw new Error("Llama-2 has tokenizer.model");
		const pieces = [...sentencePiece.pieces, ...Array.from({ length: filler }, (_, i) => ({ piece: `<filler_${i}>`, score: -2e9 - i * 1024, type: PieceType.NORMAL }))];
		const vocab = { ...c.base.tokenizerJson.model.vocab };
		for (let i = 0; i < filler; i++) vocab[`<filler_${i}>`] = 32000 + i;
		const big: BaseTokenizer = { ...c.base, sentencePiece: { ...sentencePiece, pieces }, tokenizerJson: { ...c.base.tokenizerJson, model: { ...c.base.tokenizerJson.model, vocab } } };
		const extended = buildExtendedTokenizer(big, c.plan, { newTokens: 10 });
		const added = extended.sentencePiece?.pieces.slice(32000 + filler) ?? [];
		expect(added).toHaveLength(10);
		expect(extended.newTokens[0]?.id).toBe(32000 + filler);
		expect(added.every((p) => p.score < -2e9 - (filler - 1) * 1024)).toBe(true);
	});

	it("should keep the base merges first and in the input's string format, and never re-append one", () => {
		const before = readMerges(c.base.tokenizerJson.model).merges;
		const after = readMerges(c.extended.tokenizerJson.model);
		expect(after.format).toBe("string");
		expect(after.merges.slice(0, before.length)).toEqual(before);
		const keys = after.merges.map(([a, b]) => `${a} ${b}`);
		expect(new Set(keys).size).toBe(keys.length);
		for (const [a, b] of after.merges.slice(before.length)) expect(a + b).toMatch(THAI);
	});

	it("should lower Thai fertility and match special tokens whole", async () => {
		const lines = await udhrLines("tha2");
		const count = async (json: typeof c.extended.tokenizerJson): Promise<number> => (await encodeLinesRust(rustTokenizer(json), lines)).reduce((n, e) => n + e.ids.length, 0);
		expect(await count(c.extended.tokenizerJson)).toBeLessThan((await count(c.base.tokenizerJson)) * 0.8);
		const [encoded] = await encodeLinesRust(rustTokenizer(c.extended.tokenizerJson), ["<TH> สวัสดี <RESPONSE>"]);
		expect(encoded?.ids).toContain(32602);
		expect(encoded?.ids).toContain(32601);
	});
});

describe("extension of a tokenizer.model-only Llama-2 directory and of Mistral's tokenizer.json", () => {
	it("should derive tokenizer.json from tokenizer.model and pass every check", async () => {
		const c = await extend(await llama2ModelOnlyDir(), 200);
		expect(c.base.tokenizerJsonConverted).toBe(true);
		expectChecksPass(c.report, ["english-regression-rust", "english-regression-js", "decode-round-trip", "new-tokens-produced", "sentencepiece-agrees"]);
	});

	it("should learn on a seeded sample of lines when maxLines is set", async () => {
		const base = await loadBaseTokenizer(await llama2ModelOnlyDir());
		const lines = await udhrLines("tha");
		const learn = (seed: number) => learnExtension({ base, lines, lang: "th", newTokens: 2000, maxLines: 30, seed });
		const [a, b, c] = await Promise.all([learn(1), learn(1), learn(2)]);
		const full = await learnExtension({ base, lines, lang: "th", newTokens: 2000 });
		expect(a.corpusLines).toBe(lines.length);
		expect(a.merges).toEqual(b.merges);
		expect(a.merges).not.toEqual(c.merges);
		expect(a.chars.length + a.merges.length).toBeLessThan(full.chars.length + full.merges.length);
		expect(a.shortfall).toMatch(/30-line sample of the 90-line corpus/);
	});

	it("should extend Mistral's tokenizer.json (no tokenizer.model) with ids after 31999", async () => {
		const c = await extend(await mistralDir(), 300);
		expect(c.base.family).toBe("sentencepiece-bpe");
		expect(c.extended.sentencePiece).toBeUndefined();
		expectChecksPass(c.report, ["english-regression-rust", "english-regression-js", "decode-round-trip", "new-tokens-produced"]);
		expect(c.extended.newTokens[0]?.id).toBe(32000);
	});
});

describe("extension of byte-level BPE (Llama-3)", () => {
	let c: Case;
	beforeAll(async () => {
		c = await extend(await llama3Dir(), 250);
	});

	it("should pass every check", () => {
		expectChecksPass(c.report, ["english-regression-rust", "english-regression-js", "decode-round-trip", "new-tokens-produced"]);
	});

	it("should give new tokens ids after the 256 reserved special tokens, which keep theirs", async () => {
		expect(c.extended.newTokens[0]?.id).toBe(128256);
		expect(c.extended.specialTokens[0]?.id).toBe(128256 + c.extended.newTokens.length);
		const tokenizer = rustTokenizer(c.extended.tokenizerJson);
		expect(tokenizer.tokenToId("<|begin_of_text|>")).toBe(128000);
		expect(tokenizer.tokenToId("<|eot_id|>")).toBe(128009);
		expect(tokenizer.tokenToId("<TH>")).toBe(c.extended.specialTokens[2]?.id);
		const [encoded] = await encodeLinesRust(tokenizer, ["<|begin_of_text|>hello"]);
		expect(encoded?.ids[0]).toBe(128000);
	});

	it("should append merges that contain a whole Thai character, in learned order", () => {
		const before = readMerges(c.base.tokenizerJson.model).merges;
		const after = readMerges(c.extended.tokenizerJson.model).merges;
		expect(after.length - before.length).toBe(c.extended.newTokens.length);
		const appended = after.slice(before.length);
		expect(appended).toEqual(c.plan.merges.slice(0, appended.length).map((m) => [m.left, m.right]));
		for (const [a, b] of appended) expect(byteLevelText(a + b)).toMatch(THAI);
	});

	it("should keep merges in pair form when the input uses pairs", async () => {
		const base = await loadBaseTokenizer(await llama3Dir());
		const pairs = readMerges(base.tokenizerJson.model).merges;
		const pairBase: BaseTokenizer = { ...base, tokenizerJson: { ...base.tokenizerJson, model: { ...base.tokenizerJson.model, merges: pairs } } };
		const plan = await learnExtension({ base: pairBase, lines: (await udhrLines("tha")).slice(0, 30), lang: "th", newTokens: 20 });
		const extended = buildExtendedTokenizer(pairBase, plan);
		expect(Array.isArray((extended.tokenizerJson.model.merges as unknown[]).at(-1))).toBe(true);
		expect(readMerges(extended.tokenizerJson.model).merges.slice(0, pairs.length)).toEqual(pairs);
	});

	it("should learn more Thai tokens with the combining-mark pre-tokenizer patch, still passing every check", async () => {
		const patched = await extend(await llama3Dir(), 1000, true);
		expectChecksPass(patched.report, ["english-regression-rust", "english-regression-js", "decode-round-trip", "new-tokens-produced"]);
		expect(patched.extended.newTokens.length).toBeGreaterThan(c.plan.merges.length);
	});
});
