import { describe, expect, it } from "vitest";
import { learnContinuedBpe } from "../src/continued-bpe.js";
import type { SegmentedWord } from "../src/continued-bpe.js";
import { udhrLines } from "../src/regression-corpus.js";

// Real Thai words (ICU segmentation of the Thai UDHR), spelt out character by character.
async function thaiWords(): Promise<SegmentedWord[]> {
	const counts = new Map<string, number>();
	const segmenter = new Intl.Segmenter("th", { granularity: "word" });
	for (const line of await udhrLines("tha")) for (const s of segmenter.segment(line)) if (s.isWordLike) counts.set(s.segment, (counts.get(s.segment) ?? 0) + 1);
	return [...counts].map(([word, count]) => ({ symbols: [...word], count }));
}

describe("learnContinuedBpe", () => {
	it("should merge the most frequent pair first and be prefix-consistent", async () => {
		const words = await thaiWords();
		const long = learnContinuedBpe(words, { merges: 120, isCandidate: () => true });
		const short = learnContinuedBpe(words, { merges: 40, isCandidate: () => true });
		expect(long).toHaveLength(120);
		expect(long.slice(0, 40)).toEqual(short);
		// The first merge is the most frequent adjacent pair of the corpus.
		const pairs = new Map<string, number>();
		for (const word of words) for (let i = 0; i + 1 < word.symbols.length; i++) {
			const key = `${word.symbols[i]}|${word.symbols[i + 1]}`;
			pairs.set(key, (pairs.get(key) ?? 0) + word.count);
		}
		const best = Math.max(...pairs.values());
		expect(long[0]?.frequency).toBe(best);
		expect(pairs.get(`${long[0]?.left}|${long[0]?.right}`)).toBe(best);
		for (let i = 1; i < long.length; i++) expect(long[i]?.token).toBe(`${long[i]?.left}${long[i]?.right}`);
	});

	it("should only merge pairs the candidate filter allows and stop below the minimum frequency", async () => {
		const words = await thaiWords();
		const noTone = learnContinuedBpe(words, { merges: 200, isCandidate: (a, b) => !/[\u0E48-\u0E4B]/u.test(a + b) });
		for (const merge of noTone) expect(merge.token).not.toMatch(/[\u0E48-\u0E4B]/u);
		const frequent = learnContinuedBpe(words, { merges: 100000, minFrequency: 5, isCandidate: () => true });
		expect(frequent.length).toBeGreaterThan(10);
		expect(frequent.length).toBeLessThan(100000);
		for (const merge of frequent) expect(merge.frequency).toBeGreaterThanOrEqual(5);
	});
});
