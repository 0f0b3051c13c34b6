import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pythonRef } from "@transllm/python-ref";
import { alignedArticles } from "@transllm/udhr-text";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOpenAiGenerationBackend } from "@transllm/recovery-kd";
import { corpusBleu, corpusChrf, evaluateTranslation, tcotTranslationPrompt, tokenize13a } from "../src/index.js";
import { lastUser, startScriptedServer, tempDir } from "./helpers.js";
import type { Responder } from "./helpers.js";

const { ref, reason } = pythonRef(["sacrebleu"]);
if (!ref) console.warn(`sacreBLEU comparison skipped: ${reason}`);

// A Flores-style test set: UDHR sentences aligned across English and Thai.
const PAIRS = alignedArticles("en", "th")
	.slice(1, 31)
	.map((a) => ({ en: (a.a.split("\n")[0] as string).trim(), th: (a.b.split("\n")[0] as string).trim() }));

// The "model": a deterministic translator that returns the reference with some damage, so scores are neither 0 nor 100.
function damage(text: string, i: number): string {
	const words = text.split(" ");
	if (i % 3 === 0) return words.reverse().join(" ");
	if (i % 3 === 1) return `${words.slice(0, Math.ceil(words.length / 2)).join(" ")}, "quoted" & 1,000.50 -- (x)`;
	return Array.from(text).filter((_, k) => k % 7 !== 3).join("");
}
function translator(prompt: Parameters<Responder>[0]): string {
	const user = lastUser(prompt);
	const index = PAIRS.findIndex((p) => user.includes(p.en) || user.includes(p.th));
	const pair = PAIRS[index];
	if (!pair) return "?";
	return user.includes(pair.en) ? `<TH> ${damage(pair.th, index)}` : `<EN> ${damage(pair.en, index)}`;
}

let dir: string;
let served: Awaited<ReturnType<typeof startScriptedServer>>;
beforeAll(async () => {
	dir = await tempDir("translate");
	served = await startScriptedServer(translator, { name: "transllm-th" });
});
afterAll(async () => served?.close());

function sacrebleu(hyp: string, refFile: string, tokenize: string): { bleu: number; chrf: number; bleuSignature: string; chrfSignature: string } {
	const code = [
		"import json, sys, sacrebleu",
		"hyp = open(sys.argv[1], encoding='utf-8').read().split('\\n')[:-1]",
		"ref = open(sys.argv[2], encoding='utf-8').read().split('\\n')[:-1]",
		"b = sacrebleu.BLEU(tokenize=sys.argv[3]); c = sacrebleu.CHRF(word_order=2)",
		"bs = b.corpus_score(hyp, [ref]); cs = c.corpus_score(hyp, [ref])",
		"print(json.dumps({'bleu': bs.score, 'chrf': cs.score, 'bleuSignature': str(b.get_signature()), 'chrfSignature': str(c.get_signature())}))",
	].join("\n");
	return JSON.parse(ref?.run(["-c", code, hyp, refFile, tokenize]).stdout ?? "{}");
}

describe("eval translate", () => {
	it("should translate both directions with TransLLM's translation instruction and read the <β> answer", async () => {
		const data = join(dir, "flores.jsonl");
		await writeFile(data, `${PAIRS.map((p, i) => JSON.stringify({ id: i, ...p })).join("\n")}\n`);
		const generator = createOpenAiGenerationBackend({ endpoint: served.baseUrl, model: "transllm-th", concurrency: 4 });
		const result = await evaluateTranslation({ data, source: "en", target: "th", generator, out: join(dir, "out.translations.jsonl"), progress: false });
		const [forward, backward] = result.results.directions;
		expect(forward?.direction).toBe("en-th");
		expect(backward?.direction).toBe("th-en");
		expect(forward?.sentences).toBe(30);
		const hyp = (await readFile(forward?.hypothesisFile as string, "utf8")).split("\n");
		expect(hyp[0]).toBe(damage(PAIRS[0]?.th as string, 0));
		// The instruction is the bundled template in the source language (Thai for TH→EN).
		expect(served.prompts.some((p) => lastUser(p) === tcotTranslationPrompt(PAIRS[0]?.th as string, "th", "en"))).toBe(true);
		expect(result.results.directions.every((d) => d.bleu > 0 && d.bleu < 100 && d.chrf > 0 && d.chrf < 100)).toBe(true);
	});

	it.skipIf(!ref)("should equal sacreBLEU's own BLEU (13a, char) and chrF++ on the same files, with its signature strings", async () => {
		const data = join(dir, "flores.jsonl");
		const generator = createOpenAiGenerationBackend({ endpoint: served.baseUrl, model: "transllm-th", concurrency: 4 });
		const result = await evaluateTranslation({ data, source: "en", target: "th", generator, tokenize: { th: "char" }, out: join(dir, "char.translations.jsonl"), progress: false });
		for (const direction of result.results.directions) {
			const tokenize = direction.direction === "en-th" ? "char" : "13a";
			const reference = sacrebleu(direction.hypothesisFile, direction.referenceFile, tokenize);
			expect(Math.abs(direction.bleu - reference.bleu)).toBeLessThan(1e-9);
			expect(Math.abs(direction.chrf - reference.chrf)).toBeLessThan(1e-9);
			// The same signature fields; the version part names the sacreBLEU release whose code this follows (2.6.0).
			const fields = (signature: string) => signature.replace(/\|version:[^|]*$/, "");
			expect(fields(direction.bleuSignature)).toBe(fields(reference.bleuSignature));
			expect(fields(direction.chrfSignature)).toBe(fields(reference.chrfSignature));
			// 13a on Thai, too (the paper's signature): still sacreBLEU's number.
			const hyps = (await readFile(direction.hypothesisFile, "utf8")).split("\n").slice(0, -1);
			const refs = (await readFile(direction.referenceFile, "utf8")).split("\n").slice(0, -1);
			expect(Math.abs(corpusBleu(hyps, refs, { tokenize: "13a" }).score - sacrebleu(direction.hypothesisFile, direction.referenceFile, "13a").bleu)).toBeLessThan(1e-9);
		}
		expect(result.results.directions[1]?.bleuSignature).toBe("nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0");
	});

	it("should tokenise as mteval-v13a and score hand-computed cases", () => {
		expect(tokenize13a("Hello, world! It's 1,000.50 &amp; x-y 3-4.")).toBe("Hello , world ! It's 1,000.50 & x-y 3 - 4 .");
		expect(corpusBleu(["the cat sat on the mat"], ["the cat sat on the mat"]).score).toBeCloseTo(100, 10);
		expect(corpusBleu(["x y"], ["a b c d"]).score).toBe(0);
		// One bigram-less hypothesis: exp smoothing halves the floor for each zero-match order.
		const one = corpusBleu(["a b x y"], ["a b c d"]);
		expect(one.counts).toEqual([2, 1, 0, 0]);
		expect(one.score).toBeCloseTo(100 * Math.exp((Math.log(2 / 4) + Math.log(1 / 3) + Math.log(1 / (2 * 2)) + Math.log(1 / (4 * 1))) / 4), 10);
		expect(corpusChrf(["abc"], ["abc"]).score).toBeCloseTo(100, 10);
	});
});
