import { beforeAll, describe, expect, it } from "vitest";
import { loadBaseTokenizer } from "../src/base-tokenizer.js";
import type { BaseTokenizer } from "../src/base-tokenizer.js";
import { buildExtendedTokenizer, learnExtension } from "../src/extend-tokenizer.js";
import type { ExtendedTokenizer, ExtensionPlan } from "../src/extend-tokenizer.js";
import { ExtensionCheckError, checkExtension, formatCheckReport, startBaseReference } from "../src/extension-checks.js";
import { udhrLines } from "../src/regression-corpus.js";
import { formatMerges, readMerges } from "../src/tokenizer-json.js";
import { llama2FullDir } from "./fixtures.js";

describe("checkExtension", () => {
	let base: BaseTokenizer;
	let plan: ExtensionPlan;
	let good: ExtendedTokenizer;
	let english: string[];
	let thai: string[];
	const clone = (): ExtendedTokenizer => structuredClone(good);

	beforeAll(async () => {
		base = await loadBaseTokenizer(await llama2FullDir());
		thai = await udhrLines("tha");
		english = await udhrLines("eng");
		plan = await learnExtension({ base, lines: thai, lang: "th", newTokens: 400 });
		good = buildExtendedTokenizer(base, plan);
	});

	const failed = async (extended: ExtendedTokenizer): Promise<string[]> => {
		const report = await checkExtension({ base, plan, extended, regression: english, training: thai });
		return report.checks.filter((c) => !c.ok).map((c) => c.name);
	};

	it("should catch the usual merge (new pieces appended with score 0): SentencePiece and tokenizer.json disagree on Thai", async () => {
		const extended = clone();
		for (const piece of extended.sentencePiece?.pieces.slice(32000) ?? []) piece.score = 0;
		const report = await checkExtension({ base, plan, extended, regression: english, training: thai });
		const agreement = report.checks.find((c) => c.name === "sentencepiece-agrees");
		expect(agreement?.ok).toBe(false);
		// Many Thai lines change (39 of 90 here); English lines never meet a Thai piece.
		expect(agreement?.failures).toBeGreaterThan(thai.length / 4);
		expect(agreement?.examples[0]?.line).toMatch(/\p{Script=Thai}/u);
		expect(formatCheckReport(report)).toMatch(/^FAIL sentencepiece-agrees: \d+\/\d+ SentencePiece/m);
	});

	it("should catch a merge that changes English under both the Rust and the JS tokenizers", async () => {
		const extended = clone();
		const { merges, format } = readMerges(extended.tokenizerJson.model);
		extended.tokenizerJson.model.vocab["▁Universal"] = 40000;
		extended.tokenizerJson.model.merges = formatMerges([...merges, ["▁Univers", "al"]], format);
		expect(await failed(extended)).toEqual(expect.arrayContaining(["english-regression-rust", "english-regression-js"]));
	});

	it("should catch a token that BPE never reaches (what tokenizer.add_tokens makes)", async () => {
		const extended = clone();
		extended.tokenizerJson.model.vocab["สิทธิมนุษยชนสากล"] = 40000;
		extended.newTokens.push({ token: "สิทธิมนุษยชนสากล", id: 40000, baseTokens: [], baseIds: [], frequency: 0 });
		const report = await checkExtension({ base, plan, extended, regression: english, training: thai });
		const produced = report.checks.find((c) => c.name === "new-tokens-produced");
		expect(produced?.ok).toBe(false);
		expect(produced?.examples).toEqual([{ token: "สิทธิมนุษยชนสากล" }]);
	});

	it("should catch a decoder that does not round-trip", async () => {
		const extended = clone();
		extended.tokenizerJson.decoder = { type: "Sequence", decoders: [{ type: "Replace", pattern: { String: "▁" }, content: " " }, { type: "ByteFallback" }, { type: "Fuse" }] };
		expect(await failed(extended)).toContain("decode-round-trip");
	});

	it("should record, for the checks, a line where the learner saw each new token", () => {
		const withLine = [...plan.chars, ...plan.merges].filter((t) => t.line !== undefined);
		expect(withLine.length).toBeGreaterThan(plan.merges.length / 2);
		for (const { token, line } of withLine) expect(` ${thai[line as number]}`).toContain(token.replace(/▁/g, " "));
	});

	it("should find every new token on a small sample plus the learner's lines, without searching the corpus", async () => {
		const report = await checkExtension({ base, plan, extended: good, regression: english, training: thai, sampleSize: 3 });
		const produced = report.checks.find((c) => c.name === "new-tokens-produced");
		expect(produced?.ok).toBe(true);
		expect(produced?.summary).toMatch(/encoded 3 sampled lines, [1-9]\d* lines where the learner saw a token\)$/);
	});

	it("should search the rest of the corpus for a token whose line is unknown (a plan cached before lines were recorded)", async () => {
		const stripped: ExtensionPlan = { ...plan, chars: plan.chars.map(({ line: _, ...c }) => c), merges: plan.merges.map(({ line: _, ...m }) => m) };
		const report = await checkExtension({ base, plan: stripped, extended: good, regression: english, training: thai, sampleSize: 3 });
		const produced = report.checks.find((c) => c.name === "new-tokens-produced");
		expect(produced?.ok).toBe(true);
		expect(produced?.summary).toMatch(/encoded 3 sampled lines, 0 lines where the learner saw a token, [1-9]\d* more of 90 lines searched\)$/);
	});

	it("should refuse a base reference started for another regression corpus", async () => {
		const reference = startBaseReference({ base, regression: english.slice(1) });
		await expect(checkExtension({ base, plan, extended: good, regression: english, training: thai, reference })).rejects.toThrow(/another base tokenizer or regression corpus/);
	});

	it("should pass the untouched extension, and its error type carries the report", async () => {
		const report = await checkExtension({ base, plan, extended: good, regression: english, training: thai });
		expect(report.ok).toBe(true);
		const error = new ExtensionCheckError({ ok: false, checks: report.checks });
		expect(error.code).toBe("E_CHECK_FAILED");
		expect(error.message).toMatch(/nothing was written/);
	});
});
