import { describe, expect, it } from "vitest";
import { interleaveTranslationPretraining, translationPretrainingPair } from "../src/index.js";
import type { ParallelPair } from "../src/index.js";
import { alignedArticles, udhrArticles } from "./udhr.js";

const pairs: ParallelPair[] = alignedArticles().map(([, english, thai]) => ({ source: english, target: thai, sourceLang: "en", targetLang: "th" }));
// English monolingual lines: every English UDHR paragraph.
const englishLines = [...udhrArticles("eng").values()].flat();
// Pinned output of seed 4 (core's SeededRng): the paper's cat(s_a, <b>, s_b) / cat(s_b, <a>, s_a) lines between English lines.
const GOLDEN_SEED_4 = [
	"Hello. <TH> สวัสดี",
	"สวัสดี <EN> Hello.",
	"English one.",
	"English two.",
	"English three.",
	"ขอบคุณ <EN> Thank you.",
	"Thank you. <TH> ขอบคุณ",
].join("\n");

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
	const lines: string[] = [];
	for await (const line of iterable) lines.push(line);
	return lines;
}

async function* stream<T>(items: readonly T[]): AsyncGenerator<T> {
	for (const item of items) yield item;
}

describe("interleaveTranslationPretraining", () => {
	it("should keep every English line in order and insert both instances of every pair", async () => {
		const lines = await collect(interleaveTranslationPretraining(pairs, englishLines, { seed: 1 }));
		expect(lines.length).toBe(englishLines.length + pairs.length * 2);
		expect(lines.filter((line) => englishLines.includes(line))).toEqual(englishLines);
		const instances = pairs.flatMap((pair) => translationPretrainingPair(pair));
		expect(lines.filter((line) => !englishLines.includes(line)).sort()).toEqual([...instances].sort());
		expect(lines.every((line) => !line.includes("\n") || englishLines.includes(line))).toBe(true);
	});

	it("should write the golden stream for a fixed seed", async () => {
		const small: ParallelPair[] = [
			{ source: "Hello.", target: "สวัสดี", sourceLang: "en", targetLang: "th" },
			{ source: "ขอบคุณ", target: "Thank you.", sourceLang: "th", targetLang: "en" },
		];
		const lines = await collect(interleaveTranslationPretraining(small, ["English one.", "English two.", "English three."], { seed: 4 }));
		expect(lines.join("\n")).toBe(GOLDEN_SEED_4);
	});

	it("should be deterministic under a seed and differ across seeds", async () => {
		const a = await collect(interleaveTranslationPretraining(pairs, englishLines, { seed: 1 }));
		const b = await collect(interleaveTranslationPretraining(stream(pairs), stream(englishLines), { seed: 1, pairCount: pairs.length, englishLineCount: englishLines.length }));
		const c = await collect(interleaveTranslationPretraining(pairs, englishLines, { seed: 2 }));
		expect(b).toEqual(a);
		expect(c).not.toEqual(a);
	});

	it("should spread instances over the whole stream at random positions", async () => {
		// 1,000 English lines and 60 instances: a uniform merge puts about half the instances in each half.
		const english = Array.from({ length: 1000 }, (_, index) => `English line ${index}`);
		const firstHalfShares: number[] = [];
		for (let seed = 0; seed < 20; seed++) {
			const lines = await collect(interleaveTranslationPretraining(stream(pairs), stream(english), { seed, pairCount: pairs.length, englishLineCount: english.length }));
			const firstHalf = lines.slice(0, lines.length / 2).filter((line) => !line.startsWith("English line")).length;
			firstHalfShares.push(firstHalf / (pairs.length * 2));
		}
		const mean = firstHalfShares.reduce((sum, share) => sum + share, 0) / firstHalfShares.length;
		expect(mean).toBeGreaterThan(0.4);
		expect(mean).toBeLessThan(0.6);
	});

	it("should give a complete output when a count is wrong, and read one-shot sources without counts", async () => {
		const wrong = await collect(interleaveTranslationPretraining(stream(pairs), stream(englishLines), { seed: 3, pairCount: 5, englishLineCount: 2 }));
		expect(wrong.length).toBe(englishLines.length + pairs.length * 2);
		const uncounted = await collect(interleaveTranslationPretraining(stream(pairs), stream(englishLines), { seed: 3 }));
		expect(uncounted).toEqual(await collect(interleaveTranslationPretraining(pairs, englishLines, { seed: 3 })));
	});
});
