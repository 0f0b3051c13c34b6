import { ConfigError } from "@transllm/core";
import type { Filter, FilterVerdict } from "./filter.js";
import type { FilterSpec } from "./filter-spec.js";
import { drop, roundRatio } from "./filter.js";
import { sharedWords } from "./split-words.js";

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
 * Dense ids for pairs of non-negative integers (an (n-1)-gram's id and the next word's): an open-addressing
 * table in typed arrays, reused from document to document (a stamp per slot empties it without clearing).
 */
class PairInterner {
	size = 0;
	#first = new Int32Array(0);
	#second = new Int32Array(0);
	#ids = new Int32Array(0);
	#stamps = new Int32Array(0);
	#stamp = 0;
	#mask = 0;

	/** Empties the table, sized for `capacity` distinct pairs. */
	reset(capacity: number): void {
		let slots = 16;
		while (slots < capacity * 2) slots *= 2;
		if (slots > this.#stamps.length || this.#stamp === 0x7fffffff) {
			this.#first = new Int32Array(slots);
			this.#second = new Int32Array(slots);
			this.#ids = new Int32Array(slots);
			this.#stamps = new Int32Array(slots);
			this.#stamp = 0;
		}
		this.#mask = this.#stamps.length - 1;
		this.#stamp += 1;
		this.size = 0;
	}

	/** The id of (a, b): the number of distinct pairs seen before its first occurrence. */
	intern(a: number, b: number): number {
		const stamps = this.#stamps;
		let hash = Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca6b);
		hash ^= hash >>> 15;
		let slot = hash & this.#mask;
		for (;;) {
			if (stamps[slot] !== this.#stamp) {
				stamps[slot] = this.#stamp;
				this.#first[slot] = a;
				this.#second[slot] = b;
				this.#ids[slot] = this.size;
				return this.size++;
			}
			if (this.#first[slot] === a && this.#second[slot] === b) return this.#ids[slot] as number;
			slot = (slot + 1) & this.#mask;
		}
	}
}

/** One interner per thread: filters run one document at a time. */
const pairs = new PairInterner();

/**
 * Word n-gram repetition (Gopher, Rae et al. 2021, Table A1): drops a document when its most frequent n-gram
 * (n = 2…4) covers too large a share of its word characters (`top_<n>_gram`), or when the non-overlapping
 * repeated n-grams (n = 5…10) do (`duplicate_<n>_grams`). A "most frequent" n-gram must occur at least twice:
 * a short document whose every bigram is unique is not repetitive (a choice; see the README).
 */
export class NgramRepetitionFilter implements Filter<{ text: string }> {
	readonly name: string;
	readonly #params: NgramRepetitionFilterParams;
	private readonly lang: string;
	private readonly top: [number, number][];
	private readonly duplicate: [number, number][];
	private readonly minWords: number;

	constructor(params: NgramRepetitionFilterParams) {
		this.#params = params;
		this.name = params.name ?? "ngram_repetition";
		this.lang = params.lang;
		this.top = checkTable("topNgrams", params.topNgrams ?? TOP_NGRAMS);
		this.duplicate = checkTable("duplicateNgrams", params.duplicateNgrams ?? DUPLICATE_NGRAMS);
		this.minWords = params.minWords ?? 50;
		if (!(Number.isInteger(this.minWords) && this.minWords >= 0)) throw new ConfigError(`minWords must be an integer ≥ 0, got ${this.minWords}`);
	}

	/** This filter as data (`FilterSpec`), to build it again in a filter worker. */
	spec(): FilterSpec {
		return { kind: "ngram_repetition", params: this.#params };
	}

	filter(document: { text: string }): FilterVerdict {
		// A word is at least one code unit: a text shorter than `minWords` cannot reach it (and is not segmented).
		if (document.text.length < this.minWords) return true;
		const words = sharedWords(document.text, this.lang);
		const length = words.length;
		if (length === 0 || length < this.minWords) return true;
		// Each distinct word gets a dense id; the n-grams of each n get dense ids from the (n-1)-gram's id and the
		// next word's (`grams`), so counting them indexes typed arrays instead of hashing strings. Exact.
		const vocabulary = new Map<string, number>();
		const unigrams = new Int32Array(length);
		const prefix = new Float64Array(length + 1);
		for (let i = 0; i < length; i++) {
			const word = words[i] as string;
			let id = vocabulary.get(word);
			if (id === undefined) {
				id = vocabulary.size;
				vocabulary.set(word, id);
			}
			unigrams[i] = id;
			prefix[i + 1] = (prefix[i] as number) + word.length;
		}
		const total = prefix[length] as number;
		if (total === 0) return true;
		const levels: { ids: Int32Array; distinct: number }[] = [{ ids: unigrams, distinct: vocabulary.size }];
		const grams = (n: number): { ids: Int32Array; distinct: number } => {
			for (let level = levels.length + 1; level <= n; level++) {
				const shorter = (levels[level - 2] as { ids: Int32Array }).ids;
				const ids = new Int32Array(length - level + 1);
				pairs.reset(ids.length);
				for (let i = 0; i < ids.length; i++) ids[i] = pairs.intern(shorter[i] as number, unigrams[i + level - 1] as number);
				levels.push({ ids, distinct: pairs.size });
			}
			return levels[n - 1] as { ids: Int32Array; distinct: number };
		};
		const chars = (start: number, n: number): number => (prefix[start + n] as number) - (prefix[start] as number);
		for (const [n, limit] of this.top) {
			if (length < n * 2) continue;
			const { ids, distinct } = grams(n);
			const counts = new Int32Array(distinct);
			let best = 0;
			let bestChars = 0;
			for (let i = 0; i < ids.length; i++) {
				const count = ++(counts[ids[i] as number] as number);
				const covered = chars(i, n) * count;
				if (count > best || (count === best && covered > bestChars)) {
					best = count;
					bestChars = covered;
				}
			}
			if (best >= 2 && bestChars / total > limit) return drop(`top_${n}_gram`, { fraction: roundRatio(bestChars / total) });
		}
		for (const [n, limit] of this.duplicate) {
			if (length < n * 2) continue;
			const { ids, distinct } = grams(n);
			const seen = new Uint8Array(distinct);
			let repeated = 0;
			let i = 0;
			while (i < ids.length) {
				const gram = ids[i] as number;
				if (seen[gram] === 1) {
					repeated += chars(i, n);
					i += n;
				} else {
					seen[gram] = 1;
					i += 1;
				}
			}
			if (repeated / total > limit) return drop(`duplicate_${n}_grams`, { fraction: roundRatio(repeated / total) });
		}
		return true;
	}
}
