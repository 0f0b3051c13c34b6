import { ConfigError } from "@transllm/core";
import type { Filter, FilterVerdict } from "./filter.js";
import { drop, roundRatio } from "./filter.js";
import { splitWords } from "./split-words.js";

export interface NgramRepetitionFilterParams {
	/** Language of the documents (decides word splitting: whitespace, or `Intl.Segmenter` for Thai …). */
	lang: string;
	/**
	 * n → maximum fraction of characters covered by the most frequent n-gram (default Gopher's
	 * {2: 0.20, 3: 0.18, 4: 0.16}).
	 */
	topNgrams?: Record<number, number>;
	/**
	 * n → maximum fraction of characters in repeated n-grams (default Gopher's
	 * {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}).
	 */
	duplicateNgrams?: Record<number, number>;
	/**
	 * Documents with fewer words are not checked (default 50, Gopher's minimum document length): in a short
	 * paragraph one repeated phrase ("seine Staatsangehörigkeit" twice in UDHR Art. 15, German) already
	 * exceeds the limits.
	 */
	minWords?: number;
	name?: string;
}

const TOP_NGRAMS: Record<number, number> = { 2: 0.2, 3: 0.18, 4: 0.16 };
const DUPLICATE_NGRAMS: Record<number, number> = { 5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.1 };

function checkTable(name: string, table: Record<number, number>): [number, number][] {
	return Object.entries(table).map(([n, fraction]) => {
		const size = Number(n);
		if (!Number.isInteger(size) || size < 1) throw new ConfigError(`${name}: n-gram size must be an integer ≥ 1, got ${n}`);
		if (!(fraction >= 0 && fraction <= 1)) throw new ConfigError(`${name}[${n}] must lie in [0, 1], got ${fraction}`);
		return [size, fraction];
	});
}

/**
 * Word n-gram repetition (Gopher, Rae et al. 2021, Table A1): drops a document when its most frequent n-gram
 * (n = 2…4) covers too large a share of its word characters (`top_<n>_gram`), or when the non-overlapping
 * repeated n-grams (n = 5…10) do (`duplicate_<n>_grams`). A "most frequent" n-gram must occur at least twice:
 * a short document whose every bigram is unique is not repetitive (a choice; see the README).
 */
export class NgramRepetitionFilter implements Filter<{ text: string }> {
	readonly name: string;
	private readonly lang: string;
	private readonly top: [number, number][];
	private readonly duplicate: [number, number][];
	private readonly minWords: number;

	constructor(params: NgramRepetitionFilterParams) {
		this.name = params.name ?? "ngram_repetition";
		this.lang = params.lang;
		this.top = checkTable("topNgrams", params.topNgrams ?? TOP_NGRAMS);
		this.duplicate = checkTable("duplicateNgrams", params.duplicateNgrams ?? DUPLICATE_NGRAMS);
		this.minWords = params.minWords ?? 50;
		if (!(Number.isInteger(this.minWords) && this.minWords >= 0)) throw new ConfigError(`minWords must be an integer ≥ 0, got ${this.minWords}`);
	}

	filter(document: { text: string }): FilterVerdict {
		const words = splitWords(document.text, this.lang);
		if (words.length === 0 || words.length < this.minWords) return true;
		// Each distinct word becomes one UTF-16 code unit (two past 65,535 distinct words) of a code string, so an
		// n-gram is a short substring of it: counting those is ~2× faster than counting joined words, and exact.
		const vocabulary = new Map<string, number>();
		const ids: number[] = [];
		const prefix = new Float64Array(words.length + 1);
		for (let i = 0; i < words.length; i++) {
			const word = words[i] as string;
			let id = vocabulary.get(word);
			if (id === undefined) {
				id = vocabulary.size;
				vocabulary.set(word, id);
			}
			ids.push(id);
			prefix[i + 1] = (prefix[i] as number) + word.length;
		}
		const total = prefix[words.length] as number;
		if (total === 0) return true;
		const width = vocabulary.size > 0xffff ? 2 : 1;
		let code = "";
		for (const id of ids) code += width === 1 ? String.fromCharCode(id) : String.fromCharCode(id >>> 16, id & 0xffff);
		const key = (start: number, n: number): string => code.substring(start * width, (start + n) * width);
		const chars = (start: number, n: number): number => (prefix[start + n] as number) - (prefix[start] as number);
		for (const [n, limit] of this.top) {
			if (words.length < n * 2) continue;
			const counts = new Map<string, number>();
			let best = 0;
			let bestChars = 0;
			for (let i = 0; i + n <= words.length; i++) {
				const gram = key(i, n);
				const count = (counts.get(gram) ?? 0) + 1;
				counts.set(gram, count);
				const covered = chars(i, n) * count;
				if (count > best || (count === best && covered > bestChars)) {
					best = count;
					bestChars = covered;
				}
			}
			if (best >= 2 && bestChars / total > limit) return drop(`top_${n}_gram`, { fraction: roundRatio(bestChars / total) });
		}
		for (const [n, limit] of this.duplicate) {
			if (words.length < n * 2) continue;
			const seen = new Set<string>();
			let repeated = 0;
			let i = 0;
			while (i + n <= words.length) {
				const gram = key(i, n);
				if (seen.has(gram)) {
					repeated += chars(i, n);
					i += n;
				} else {
					seen.add(gram);
					i += 1;
				}
			}
			if (repeated / total > limit) return drop(`duplicate_${n}_grams`, { fraction: roundRatio(repeated / total) });
		}
		return true;
	}
}
