import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InputError, SeededRng } from "@transllm/core";
import { describe, expect, it } from "vitest";
import type { CorpusPair } from "../src/index.js";
import { MultilingualLexicon, augmentParallel, codeSwitch, codeSwitchPairs, countLanguagePairs, dictionaryLanguages, layoutParallel } from "../src/index.js";
import { udhrArticlePairs, udhrArticles } from "./udhr.js";

const fixtures = join(import.meta.dirname, "fixtures", "udhr-lexicon");
const dictionaries = ["en-fr.txt", "en-de.txt", "en-es.tsv", "en-th.txt"].map((name) => ({ path: join(fixtures, name), ...(dictionaryLanguages(name) as { sourceLang: string; targetLang: string }) }));
const english = udhrArticles("eng");
const thai = udhrArticles("tha");

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
	const out: T[] = [];
	for await (const item of items) out.push(item);
	return out;
}

function toPairs(): CorpusPair[] {
	return udhrArticlePairs("eng", "tha").map((p) => ({ id: `udhr-${p.article}`, source: p.source, target: p.target, sourceLang: "en", targetLang: "th", file: "udhr", line: p.article }));
}

describe("MultilingualLexicon", () => {
	it("should merge bilingual dictionaries into {word}_{lang} entities, 1-hop and 2-hop", async () => {
		expect(dictionaryLanguages("en-th.0-5000.txt")).toEqual({ sourceLang: "en", targetLang: "th" });
		expect(dictionaryLanguages("lexicon.txt")).toBeUndefined();
		const lexicon = await MultilingualLexicon.fromDictionaries(dictionaries);
		expect(lexicon.languages()).toEqual(["de", "en", "es", "fr", "th"]);
		const words = (entries: { lang: string; word: string }[]): string[] => entries.map((e) => `${e.word}_${e.lang}`).sort();
		expect(words(lexicon.translations("en", "Rights"))).toEqual(["derechos_es", "droits_fr", "rechten_de", "สิทธิ_th"]);
		// LLaMAX App. F, Table 11: a 2-hop translation goes through another language (liberté_fr → liberty_en → freiheit_de).
		expect(words(lexicon.translations("fr", "liberté"))).toEqual(["liberty_en"]);
		expect(words(lexicon.translations("fr", "liberté", { hops: 2 }))).toEqual(["freiheit_de", "libertad_es", "liberty_en", "เสรีภาพ_th"]);
		expect(words(lexicon.translations("en", "life", { languages: new Set(["de"]) }))).toEqual(["leben_de"]);
		expect(words(lexicon.translations("en", "slave trade"))).toEqual(["trata de esclavos_es"]);
		expect(lexicon.translations("en", "brother")).toEqual([]);
	});

	it("should name the file and line of a malformed dictionary line", async () => {
		const dir = await mkdtemp(join(tmpdir(), "corpus-lexicon-"));
		await writeFile(join(dir, "en-fr.txt"), "life vie\nliberty liberté égalité\n");
		const error = await MultilingualLexicon.fromDictionaries([{ path: join(dir, "en-fr.txt"), sourceLang: "en", targetLang: "fr" }]).catch((e: unknown) => e);
		expect(InputError.isInstance(error)).toBe(true);
		expect((error as Error).message).toMatch(/en-fr\.txt:2: a dictionary line is .* found 3 fields/);
	});
});

describe("codeSwitch", () => {
	it("should replace every known word at rate 1 and nothing at rate 0, keeping the rest of the sentence", async () => {
		const lexicon = await MultilingualLexicon.fromDictionaries(dictionaries);
		const article3 = english.get(3)?.join(" ") as string; // "Everyone has the right to life, liberty and the security of person."
		const all = codeSwitch(article3, "en", lexicon, new SeededRng(1), { rate: 1 });
		expect(all.replacements.map((r) => r.word)).toEqual(["life", "liberty", "security", "person"]);
		for (const r of all.replacements) expect(lexicon.translations("en", r.word).map((t) => `${t.word}_${t.lang}`)).toContain(`${r.translation}_${r.lang}`);
		expect(all.text).toBe(`everyone has the right to ${all.replacements.map((r) => r.translation).slice(0, 2).join(", ")} and the ${all.replacements[2]?.translation} of ${all.replacements[3]?.translation}.`);
		expect(codeSwitch(article3, "en", lexicon, new SeededRng(1), { rate: 0 })).toEqual({ text: article3.toLowerCase(), replacements: [] });
		expect(codeSwitch(article3, "en", lexicon, new SeededRng(1), { rate: 0, lowercase: false }).text).toBe(article3);
	});

	it("should be seeded, follow the replacement rate, and splice words into Thai with spaces", async () => {
		const lexicon = await MultilingualLexicon.fromDictionaries(dictionaries);
		const sentences = [...english.values()].map((paragraphs) => paragraphs.join(" "));
		const run = (seed: number, rate: number): { replaced: number; known: number; texts: string[] } => {
			const rng = new SeededRng(seed);
			let replaced = 0;
			const texts = sentences.map((s) => {
				const result = codeSwitch(s, "en", lexicon, rng, { rate });
				replaced += result.replacements.length;
				return result.text;
			});
			const known = sentences.reduce((n, s) => n + codeSwitch(s, "en", lexicon, new SeededRng(0), { rate: 1 }).replacements.length, 0);
			return { replaced, known, texts };
		};
		const a = run(7, 0.3);
		expect(run(7, 0.3).texts).toEqual(a.texts);
		expect(run(8, 0.3).texts).not.toEqual(a.texts);
		expect(a.known).toBe(50);
		// 20 seeds × 50 replaceable words: the replaced share is 0.3 ± 0.015 (one standard deviation).
		let replaced = 0;
		for (let seed = 1; seed <= 20; seed++) replaced += run(seed, 0.3).replaced;
		expect(replaced / (20 * a.known)).toBeGreaterThan(0.25);
		expect(replaced / (20 * a.known)).toBeLessThan(0.35);
		const thai3 = thai.get(3)?.join(" ") as string; // "คนทุกคนมีสิทธิในการดำรงชีวิต เสรีภาพ และความมั่นคงแห่งตัวตน"
		const switched = codeSwitch(thai3, "th", lexicon, new SeededRng(3), { rate: 1, languages: ["en"] });
		expect(switched.replacements.map((r) => `${r.word}→${r.translation}`)).toEqual(["สิทธิ→rights", "ชีวิต→life", "เสรีภาพ→liberty"]);
		expect(switched.text).toBe("คนทุกคนมี rights ในการดำรง life liberty และความมั่นคงแห่งตัวตน");
	});

	it("should augment both directions of each pair, independently of input order", async () => {
		const lexicon = await MultilingualLexicon.fromDictionaries(dictionaries);
		const pairs = toPairs();
		const augmented = await collect(codeSwitchPairs(pairs, lexicon, { seed: 11, rate: 0.5 }));
		const shuffled = await collect(codeSwitchPairs(new SeededRng(1).shuffle(pairs.slice()), lexicon, { seed: 11, rate: 0.5 }));
		expect(new Set(shuffled.map((p) => JSON.stringify(p)))).toEqual(new Set(augmented.map((p) => JSON.stringify(p))));
		const backward = augmented.filter((p) => p.sourceLang === "th");
		expect(backward.length).toBeGreaterThan(5);
		const article = backward[0] as (typeof backward)[number];
		const original = pairs.find((p) => article.id.startsWith(`${p.id}#`)) as CorpusPair;
		expect(article.id).toBe(`${original.id}#cs-th-en`);
		expect(article.target).toBe(original.source);
		expect(article.replacements.every((r) => r.lang !== "th")).toBe(true);
		const forward = augmented.filter((p) => p.sourceLang === "en");
		expect(forward.every((p) => p.target === pairs.find((o) => p.id === `${o.id}#cs-en-th`)?.target)).toBe(true);
	});
});

describe("layoutParallel", () => {
	it("should join with a space, draw each direction with p=0.5 and replicate low-resource pairs ×3", async () => {
		const pairs = toPairs();
		const counts = await countLanguagePairs(pairs);
		expect(counts).toEqual(new Map([["en-th", 30]]));
		const replicated = await collect(layoutParallel(pairs, counts, { seed: 5 }));
		expect(replicated).toHaveLength(90);
		for (const record of replicated) expect(record.text).toBe(`${record.prompt} ${record.completion}`);
		const forward = replicated.filter((r) => r.direction === "en-th").length;
		expect(forward).toBeGreaterThan(30);
		expect(forward).toBeLessThan(60);
		expect(replicated.filter((r) => r.id.startsWith("udhr-1#")).map((r) => r.id)).toEqual(["udhr-1#1", "udhr-1#2", "udhr-1#3"]);
		const backward = replicated.find((r) => r.direction === "th-en");
		expect(pairs.some((p) => backward?.prompt === p.target && backward.completion === p.source)).toBe(true);
		const high = await collect(layoutParallel(pairs, counts, { seed: 5, lowResourceThreshold: 30, directionProbability: 1 }));
		expect(high.map((r) => r.direction)).toEqual(Array(30).fill("en-th"));
		const augmented = await collect(layoutParallel([{ ...(pairs[0] as CorpusPair), sourceLang: "th", targetLang: "en", augmented: true }], counts, { seed: 5 }));
		expect(augmented).toEqual([{ text: `${pairs[0]?.source} ${pairs[0]?.target}`, prompt: pairs[0]?.source, completion: pairs[0]?.target, direction: "th-en", augmented: true, id: "udhr-1" }]);
	});
});

describe("augmentParallel", () => {
	it("should write pseudo-parallel pairs and the layout from Moses files, resume, and refuse to overwrite", async () => {
		const dir = await mkdtemp(join(tmpdir(), "corpus-augment-"));
		const pairs = udhrArticlePairs("eng", "tha");
		await writeFile(join(dir, "udhr.en"), `${pairs.map((p) => p.source).join("\n")}\n`);
		await writeFile(join(dir, "udhr.th"), `${pairs.map((p) => p.target).join("\n")}\n`);
		const params = {
			read: { format: "moses" as const, paths: [join(dir, "udhr")], sourceLang: "en", targetLang: "th" },
			dictionaries,
			codeSwitch: { seed: 3, rate: 0.3 },
			out: join(dir, "aug.jsonl"),
			layoutOut: join(dir, "layout.jsonl"),
			silent: true,
		};
		const summary = await augmentParallel(params);
		expect(summary.pairs).toBe(30);
		expect(summary.lexicon.languages).toEqual(["de", "en", "es", "fr", "th"]);
		const lines = (await readFile(params.out, "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { id: string; replacements: unknown[] });
		expect(lines).toHaveLength(summary.augmented);
		expect(lines.every((l) => l.replacements.length > 0)).toBe(true);
		const layout = (await readFile(params.layoutOut, "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { augmented: boolean });
		expect(layout.filter((r) => !r.augmented)).toHaveLength(90);
		expect(layout.filter((r) => r.augmented)).toHaveLength(summary.augmented);
		await expect(augmentParallel(params)).rejects.toThrow(/exists: pass overwrite/);
		const again = await augmentParallel({ ...params, resume: true });
		expect(again.augmented).toBe(summary.augmented);
		// Resuming a finished run reports what the run did, not zeros; other settings are refused.
		expect(again).toEqual(summary);
		await expect(augmentParallel({ ...params, codeSwitch: { seed: 3, rate: 0.5 }, resume: true })).rejects.toThrow(/aug\.jsonl with other settings[^]*: codeSwitch\.rate 0\.3 → 0\.5/);
		expect((await readFile(params.out, "utf8")).trim().split("\n")).toHaveLength(summary.augmented);
		// LLaMAX Algorithm 1 augments only language pairs under the threshold: en–th has 30 pairs here.
		const high = await augmentParallel({ ...params, out: join(dir, "high.jsonl"), layoutOut: undefined, augmentBelow: 30 });
		expect(high).toMatchObject({ pairs: 30, augmented: 0 });
		const low = await augmentParallel({ ...params, out: join(dir, "low.jsonl"), layoutOut: undefined, augmentBelow: 31 });
		expect(low.augmented).toBe(summary.augmented);
	});
});
