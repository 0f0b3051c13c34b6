import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Stats } from "@transllm/core";
import { describe, expect, it } from "vitest";
import {
	DuplicateLineFilter,
	FilterAudit,
	LanguageIdFilter,
	LengthFilter,
	NgramRepetitionFilter,
	ScriptRatioFilter,
	WordListFilter,
	applyFilters,
	filterFromSpec,
	identificationPrefix,
	splitWords,
} from "../src/index.js";
import { identifyLanguage } from "@transllm/core";
import type { FilterVerdict } from "../src/index.js";
import { LONG_DOCUMENT, filterShard } from "../src/filter-shard.js";
import { udhrArticles, udhrParagraphs } from "./udhr.js";

const thaiArticles = udhrArticles("tha");
const englishArticles = udhrArticles("eng");
const article = (articles: Map<number, string[]>, n: number): { text: string } => ({ text: (articles.get(n) ?? []).join("\n") });

describe("WordListFilter", () => {
	it("should match Thai list words only on Intl.Segmenter word boundaries", () => {
		// Article 4: "…จะถูกยึดเป็นทาส…การค้าทาษ…"; Article 3: "…การดำรงชีวิต…" where ดำ (black) is only a prefix of ดำรง.
		expect(new WordListFilter({ words: ["ทาส"], lang: "th" }).filter(article(thaiArticles, 4))).toEqual({ reason: "word_list", detail: { words: ["ทาส"] } });
		expect(new WordListFilter({ words: ["ดำ"], lang: "th" }).filter(article(thaiArticles, 3))).toBe(true);
		expect(new WordListFilter({ words: ["ชีวิต"], lang: "th" }).filter(article(thaiArticles, 3))).not.toBe(true);
		expect(new WordListFilter({ words: ["การค้า"], lang: "th" }).matches(article(thaiArticles, 4).text)).toEqual(["การค้า"]);
	});

	it("should match English whole words and phrases, case-insensitively, and honour the threshold", () => {
		const slavery = article(englishArticles, 4); // "No one shall be held in slavery or servitude; slavery and the slave trade …"
		expect(new WordListFilter({ words: ["slave"], lang: "en" }).matches(slavery.text)).toEqual(["slave"]);
		expect(new WordListFilter({ words: ["slaver", "ass"], lang: "en" }).filter(slavery)).toBe(true);
		expect(new WordListFilter({ words: ["SLAVE TRADE"], lang: "en" }).matches(slavery.text)).toEqual(["slave trade"]);
		expect(new WordListFilter({ words: ["slavery", "slave"], lang: "en", threshold: 3 }).filter(slavery)).toEqual({ reason: "word_list", detail: { words: ["slavery", "slavery", "slave"] } });
		expect(new WordListFilter({ words: ["slavery"], lang: "en", threshold: 3 }).filter(slavery)).toBe(true);
	});
});

describe("language, script and length filters", () => {
	it("should keep Thai UDHR paragraphs and drop English ones as wrong_language", () => {
		const filter = new LanguageIdFilter({ lang: "th" });
		const thai = udhrParagraphs("tha").filter((p) => p.length > 40);
		expect(thai.filter((text) => filter.filter({ text }) !== true)).toEqual([]);
		const verdict = filter.filter(article(englishArticles, 1));
		expect(verdict).toMatchObject({ reason: "wrong_language", detail: { detected: "en" } });
		// Thai is the only language of its script (margin 1); French shares Latin with its neighbours.
		const french = article(udhrArticles("fra"), 2);
		expect(new LanguageIdFilter({ lang: "fr" }).filter(french)).toBe(true);
		expect(new LanguageIdFilter({ lang: "fr", minConfidence: 0.999 }).filter(french)).toMatchObject({ reason: "low_language_confidence", detail: { detected: "fr" } });
	});

	it("should measure the script ratio and length bounds", () => {
		const script = new ScriptRatioFilter({ lang: "th", minRatio: 0.8 });
		expect(script.script).toBe("Thai");
		expect(script.filter(article(thaiArticles, 1))).toBe(true);
		const mixed = { text: `${article(englishArticles, 1).text} ${article(thaiArticles, 3).text}` };
		expect(script.filter(mixed)).toMatchObject({ reason: "script_ratio" });
		const length = new LengthFilter({ minWords: 20, maxChars: 300, lang: "th" });
		expect(length.filter({ text: "  " })).toEqual({ reason: "too_short", detail: { chars: 0 } });
		expect(length.filter(article(thaiArticles, 3))).toMatchObject({ reason: "too_short", detail: { words: 16 } });
		expect(length.filter(article(thaiArticles, 2))).toMatchObject({ reason: "too_long" });
		expect(length.filter(article(thaiArticles, 1))).toBe(true);
		expect(splitWords(article(thaiArticles, 3).text, "th")).toHaveLength(16);
	});
});

describe("repetition filters", () => {
	it("should keep real UDHR text and drop repeated lines and n-grams", () => {
		const lines = new DuplicateLineFilter();
		const ngrams = new NgramRepetitionFilter({ lang: "th" });
		const preamble = { text: udhrParagraphs("tha").slice(0, 8).join("\n") };
		expect(lines.filter(preamble)).toBe(true);
		expect(ngrams.filter(preamble)).toBe(true);
		const menu = { text: ["หน้าแรก", "ข่าว", "หน้าแรก", "ติดต่อเรา", "หน้าแรก", "ข่าว"].join("\n") };
		expect(lines.filter(menu)).toEqual({ reason: "duplicate_lines", detail: { fraction: 0.5 } });
		const spam = { text: `${article(thaiArticles, 3).text} ${"ซื้อเลยวันนี้ ลดราคาพิเศษ ".repeat(6)}` };
		expect(ngrams.filter(spam)).toMatchObject({ reason: "top_2_gram" });
		const english = new NgramRepetitionFilter({ lang: "en", topNgrams: {} });
		const looped = { text: `${article(englishArticles, 1).text} ${article(englishArticles, 1).text}` };
		expect(english.filter(looped)).toMatchObject({ reason: "duplicate_5_grams", detail: { fraction: 0.5 } });
		expect(english.filter(article(englishArticles, 1))).toBe(true);
	});
});

/** Gopher's n-gram rules counted the plain way, with joined words as keys: the reference for the filter's id arithmetic. */
function referenceNgramVerdict(words: string[], top: Record<number, number>, duplicate: Record<number, number>): FilterVerdict {
	const total = words.reduce((sum, word) => sum + word.length, 0);
	const chars = (i: number, n: number): number => words.slice(i, i + n).reduce((sum, word) => sum + word.length, 0);
	for (const [n, limit] of Object.entries(top).map(([n, r]) => [Number(n), r] as const)) {
		if (words.length < n * 2) continue;
		const counts = new Map<string, number>();
		let best = 0;
		let bestChars = 0;
		for (let i = 0; i + n <= words.length; i++) {
			const key = words.slice(i, i + n).join("\u0000");
			const count = (counts.get(key) ?? 0) + 1;
			counts.set(key, count);
			if (count > best || (count === best && chars(i, n) * count > bestChars)) [best, bestChars] = [count, chars(i, n) * count];
		}
		if (best >= 2 && bestChars / total > limit) return { reason: `top_${n}_gram`, detail: { fraction: Number((bestChars / total).toFixed(4)) } };
	}
	for (const [n, limit] of Object.entries(duplicate).map(([n, r]) => [Number(n), r] as const)) {
		if (words.length < n * 2) continue;
		const seen = new Set<string>();
		let repeated = 0;
		for (let i = 0; i + n <= words.length; ) {
			const key = words.slice(i, i + n).join("\u0000");
			if (seen.has(key)) {
				repeated += chars(i, n);
				i += n;
			} else {
				seen.add(key);
				i += 1;
			}
		}
		if (repeated / total > limit) return { reason: `duplicate_${n}_grams`, detail: { fraction: Number((repeated / total).toFixed(4)) } };
	}
	return true;
}

describe("NgramRepetitionFilter counting", () => {
	it("should give the verdicts and fractions of plain n-gram counting on real and repeated text", () => {
		const top = { 2: 0.2, 3: 0.18, 4: 0.16 };
		const duplicate = { 5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.1 };
		const cases: [string, string][] = [];
		for (const [code, lang] of [["tha", "th"], ["eng", "en"], ["fra", "fr"]] as const) {
			const paragraphs = udhrParagraphs(code);
			for (let i = 0; i + 6 <= paragraphs.length; i += 3) {
				const text = paragraphs.slice(i, i + 6).join("\n");
				cases.push([text, lang]);
				// Looped halves and repeated phrases: the documents the rules exist for.
				cases.push([`${text} ${paragraphs.slice(i, i + 2).join(" ")}`, lang]);
				cases.push([`${paragraphs[i]} ${"ลดราคา พิเศษ วันนี้ ".repeat(i % 7)}`, lang]);
			}
		}
		const verdicts = new Map<string, number>();
		for (const [text, lang] of cases) {
			const verdict = new NgramRepetitionFilter({ lang, minWords: 0 }).filter({ text });
			expect(verdict, text.slice(0, 60)).toEqual(referenceNgramVerdict(splitWords(text, lang), top, duplicate));
			const reason = verdict === true ? "kept" : verdict.reason;
			verdicts.set(reason, (verdicts.get(reason) ?? 0) + 1);
		}
		// Both outcomes and several rules are exercised.
		expect(verdicts.get("kept")).toBeGreaterThan(10);
		expect(verdicts.size).toBeGreaterThanOrEqual(4);
	});
});

describe("filter specs and the language-ID prefix", () => {
	it("should rebuild every built-in filter from its spec with the same verdicts", () => {
		const filters = [
			new LengthFilter({ minWords: 20, maxChars: 300, lang: "th" }),
			new ScriptRatioFilter({ lang: "th", minRatio: 0.8 }),
			new LanguageIdFilter({ lang: "th", minConfidence: 0.1 }),
			new DuplicateLineFilter({ maxLineFraction: 0.1 }),
			new NgramRepetitionFilter({ lang: "th", minWords: 10 }),
			new WordListFilter({ words: ["ทาส", "ชีวิต"], lang: "th", threshold: 2, name: "sensitive" }),
		];
		const texts = [...thaiArticles.keys()].map((n) => article(thaiArticles, n)).concat([article(englishArticles, 4)]);
		for (const filter of filters) {
			const rebuilt = filterFromSpec(structuredClone(filter.spec()));
			expect(rebuilt.name).toBe(filter.name);
			expect(JSON.stringify(rebuilt)).toBe(JSON.stringify(filter));
			expect(texts.map((text) => rebuilt.filter(text))).toEqual(texts.map((text) => filter.filter(text)));
		}
	});

	it("should identify a long document from its first 2,048 code units exactly as from the whole", () => {
		const long = udhrParagraphs("fra").join("\n");
		expect(long.length).toBeGreaterThan(4 * 2048);
		expect(identificationPrefix(long)).toHaveLength(2048);
		expect(identifyLanguage(identificationPrefix(long))).toMatchObject({ lang: identifyLanguage(long).lang, confidence: identifyLanguage(long).confidence });
		// A blank prefix would make core call the text too short: then the whole text is identified.
		const padded = `${" ".repeat(2040)}${long}`;
		expect(identificationPrefix(padded)).toBe(padded);
		const whole = identifyLanguage(padded);
		expect(new LanguageIdFilter({ lang: "fr" }).filter({ text: padded })).toEqual({ reason: "low_language_confidence", detail: { detected: whole.lang, confidence: whole.confidence } });
	});
});

describe("applyFilters", () => {
	it("should count each drop once, by the first filter that makes it, and audit every dropped record", async () => {
		const dir = await mkdtemp(join(tmpdir(), "corpus-audit-"));
		const documents = [
			{ id: "th-1", text: article(thaiArticles, 1).text },
			{ id: "en-1", text: article(englishArticles, 1).text },
			{ id: "th-4", text: article(thaiArticles, 4).text },
			{ id: "empty", text: "" },
		];
		const stats = new Stats();
		const audit = new FilterAudit<{ id: string; text: string }>(dir);
		const filters = [new LengthFilter({ minChars: 1 }), new ScriptRatioFilter({ lang: "th" }), new WordListFilter({ words: ["ทาส"], lang: "th" })];
		const kept: string[] = [];
		for await (const document of applyFilters<{ id: string; text: string }>(documents, filters, { stats, audit })) kept.push(document.id);
		await audit.finish();
		expect(kept).toEqual(["th-1"]);
		expect(stats.counters).toEqual({
			"length/seen": 4,
			"length/kept": 3,
			"length/dropped_too_short": 1,
			"script_ratio/seen": 3,
			"script_ratio/kept": 2,
			"script_ratio/dropped_script_ratio": 1,
			"word_list/seen": 2,
			"word_list/kept": 1,
			"word_list/dropped_word_list": 1,
		});
		const wordAudit = (await readFile(audit.pathOf("word_list"), "utf8")).trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
		expect(wordAudit).toEqual([{ filter: "word_list", reason: "word_list", detail: { words: ["ทาส"] }, record: documents[2] }]);
	});
});

describe("long documents", () => {
	// Issue 16.3: Intl.Segmenter over one string is quadratic (58 s of CPU for a 2 MB Thai document); the word
	// filters now segment in bounded windows, so a 2 MB line costs about a second and counts the same words.
	it("segments a 2 MB Thai document in linear time with the words of its parts", { timeout: 60_000 }, () => {
		const declaration = udhrParagraphs("tha").join(" ");
		const copies = Math.ceil(2_000_000 / declaration.length);
		const text = Array.from({ length: copies }, () => declaration).join(" ");
		const document = { id: "long", text, metadata: {}, file: "long.jsonl", line: 1 };
		const one = new LengthFilter({ lang: "th", minWords: 1 });
		expect(one.filter({ ...document, text: declaration })).toBe(true);
		expect(new LengthFilter({ lang: "th", maxWords: copies * splitWords(declaration, "th").length }).filter(document)).toBe(true);
		expect(new LengthFilter({ lang: "th", maxWords: copies * splitWords(declaration, "th").length - 1 }).filter(document)).not.toBe(true);
	});

	it("shows the progress of a long document through segmentation, in characters", { timeout: 60_000 }, async () => {
		const declaration = udhrParagraphs("tha").join(" ");
		const text = Array.from({ length: Math.ceil((LONG_DOCUMENT + 1) / declaration.length) }, () => declaration).join(" ");
		const dir = await mkdtemp(join(tmpdir(), "transllm-long-"));
		const input = join(dir, "long.jsonl");
		await writeFile(input, `${JSON.stringify({ text: "สั้น ๆ" })}\n${JSON.stringify({ text })}\n`);
		const lines: string[] = [];
		const write = process.stderr.write.bind(process.stderr);
		process.stderr.write = ((chunk: string | Uint8Array) => {
			lines.push(String(chunk));
			return true;
		}) as typeof process.stderr.write;
		try {
			const job = { index: 0, input, outPath: join(dir, "out.jsonl"), auditDir: join(dir, "audit"), progress: true };
			await filterShard(job, {}, [new NgramRepetitionFilter({ lang: "th" })], () => {});
		} finally {
			process.stderr.write = write;
		}
		// One line for the long document only (line 2), ending at its length.
		expect(lines.join("")).toContain(`long.jsonl:2: ${text.length}/${text.length} chars (100.0%)`);
		expect(lines.join("")).not.toContain("long.jsonl:1");
	});
});
