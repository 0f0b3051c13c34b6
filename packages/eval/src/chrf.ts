import { ConfigError } from "@transllm/core";
import { SACREBLEU_VERSION } from "./bleu.js";
import { codePoints, pythonSplit } from "./python-text.js";

export interface ChrfScore {
	/** Corpus chrF++ (β = 2), 0–100. */
	score: number;
	/** sacreBLEU's signature: `nrefs:1|case:mixed|eff:yes|nc:6|nw:2|space:no|version:2.6.0`. */
	signature: string;
}

const CHAR_ORDER = 6;
const BETA = 2;
const PUNCTUATION = new Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~");

function count(items: Iterable<string>): Map<string, number> {
	const counts = new Map<string, number>();
	for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
	return counts;
}

function charNgrams(line: string, n: number): Map<string, number> {
	// Whitespace is not part of a character n-gram (sacreBLEU's default, space:no).
	const chars = codePoints(pythonSplit(line).join(""));
	const grams: string[] = [];
	for (let i = 0; i + n <= chars.length; i++) grams.push(chars.slice(i, i + n).join(""));
	return count(grams);
}

// sacrebleu CHRF._remove_punctuation: one punctuation mark is split off the end, else off the start, of each word.
function words(line: string): string[] {
	const out: string[] = [];
	for (const word of pythonSplit(line)) {
		const chars = codePoints(word);
		if (chars.length === 1) out.push(word);
		else if (PUNCTUATION.has(chars[chars.length - 1] as string)) out.push(chars.slice(0, -1).join(""), chars[chars.length - 1] as string);
		else if (PUNCTUATION.has(chars[0] as string)) out.push(chars[0] as string, chars.slice(1).join(""));
		else out.push(word);
	}
	return out;
}

function wordNgrams(tokens: readonly string[], n: number): Map<string, number> {
	const grams: string[] = [];
	for (let i = 0; i + n <= tokens.length; i++) grams.push(tokens.slice(i, i + n).join(" "));
	return count(grams);
}

function allNgrams(line: string, wordOrder: number): Map<string, number>[] {
	const grams: Map<string, number>[] = [];
	for (let n = 1; n <= CHAR_ORDER; n++) grams.push(charNgrams(line, n));
	const tokens = words(line);
	for (let n = 1; n <= wordOrder; n++) grams.push(wordNgrams(tokens, n));
	return grams;
}

// [hyp n-grams (0 when the reference has none), ref n-grams, matches] per order: CHRF._get_match_statistics.
function matchStatistics(hyp: Map<string, number>, ref: Map<string, number>): [number, number, number] {
	let matches = 0;
	let hypCount = 0;
	for (const [gram, n] of hyp) {
		hypCount += n;
		const r = ref.get(gram);
		if (r !== undefined) matches += Math.min(n, r);
	}
	let refCount = 0;
	for (const n of ref.values()) refCount += n;
	return [ref.size > 0 ? hypCount : 0, refCount, matches];
}

// CHRF._compute_f_score without eps smoothing: precision and recall averaged over the orders that have n-grams.
function fScore(statistics: readonly number[], orders: number): number {
	const factor = BETA ** 2;
	let avgPrecision = 0;
	let avgRecall = 0;
	let effectiveOrder = 0;
	const eps = 1e-16;
	for (let i = 0; i < orders; i++) {
		const nHyp = statistics[3 * i] as number;
		const nRef = statistics[3 * i + 1] as number;
		const nMatch = statistics[3 * i + 2] as number;
		const precision = nHyp > 0 ? nMatch / nHyp : eps;
		const recall = nRef > 0 ? nMatch / nRef : eps;
		if (nHyp > 0 && nRef > 0) {
			avgPrecision += precision;
			avgRecall += recall;
			effectiveOrder += 1;
		}
	}
	if (effectiveOrder === 0) avgPrecision = avgRecall = 0;
	else {
		avgPrecision /= effectiveOrder;
		avgRecall /= effectiveOrder;
	}
	if (avgPrecision + avgRecall === 0) return 0;
	return (100 * ((1 + factor) * avgPrecision * avgRecall)) / (factor * avgPrecision + avgRecall);
}

/**
 * Corpus chrF++ as sacreBLEU 2.x computes `CHRF(word_order=2)` (Popović 2017; sacrebleu/metrics/chrf.py):
 * character 1–6-grams without whitespace, word 1–2-grams with one punctuation mark split off each word, statistics
 * summed over the corpus, then β = 2 F-score of the precision and recall averaged over the orders.
 */
export function corpusChrf(hypotheses: readonly string[], references: readonly string[], options: { wordOrder?: number } = {}): ChrfScore {
	if (hypotheses.length !== references.length) throw new ConfigError(`chrF: ${hypotheses.length} hypotheses but ${references.length} references`);
	const wordOrder = options.wordOrder ?? 2;
	const orders = CHAR_ORDER + wordOrder;
	const totals = new Array<number>(orders * 3).fill(0);
	for (let s = 0; s < hypotheses.length; s++) {
		const hyp = allNgrams(hypotheses[s] as string, wordOrder);
		const ref = allNgrams(references[s] as string, wordOrder);
		for (let i = 0; i < orders; i++) {
			const stats = matchStatistics(hyp[i] as Map<string, number>, ref[i] as Map<string, number>);
			for (let k = 0; k < 3; k++) totals[3 * i + k] = (totals[3 * i + k] as number) + (stats[k] as number);
		}
	}
	return { score: fScore(totals, orders), signature: `nrefs:1|case:mixed|eff:yes|nc:${CHAR_ORDER}|nw:${wordOrder}|space:no|version:${SACREBLEU_VERSION}` };
}
