import { ConfigError } from "@transllm/core";
import { bleuTokenizer } from "./bleu-tokenizers.js";
import type { BleuTokenizerName } from "./bleu-tokenizers.js";
import { pythonRstrip, pythonSplit } from "./python-text.js";

/** The sacreBLEU version whose definitions this file implements (and whose signature format it writes). */
export const SACREBLEU_VERSION = "2.6.0";

const MAX_NGRAM_ORDER = 4;

export interface BleuScore {
	/** Corpus BLEU, 0–100. */
	score: number;
	/** Matching n-grams, n = 1..4. */
	counts: number[];
	/** Hypothesis n-grams, n = 1..4. */
	totals: number[];
	precisions: number[];
	bp: number;
	sysLen: number;
	refLen: number;
	/** sacreBLEU's signature string: `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0`. */
	signature: string;
}

function wordNgrams(line: string): { ngrams: Map<string, number>; length: number } {
	const tokens = pythonSplit(line);
	const ngrams = new Map<string, number>();
	for (let n = 1; n <= MAX_NGRAM_ORDER; n++) {
		for (let i = 0; i + n <= tokens.length; i++) {
			const key = tokens.slice(i, i + n).join(" ");
			ngrams.set(key, (ngrams.get(key) ?? 0) + 1);
		}
	}
	return { ngrams, length: tokens.length };
}

// sacrebleu/utils.py my_log: log floored at -9999999999.
function floorLog(x: number): number {
	return x === 0 ? -9999999999 : Math.log(x);
}

/**
 * Corpus BLEU exactly as sacreBLEU 2.x computes it with its defaults (Papineni et al. 2002; sacrebleu/metrics/bleu.py):
 * one reference per segment, mixed case, 13a tokenisation unless told otherwise, `exp` smoothing (mteval's: each
 * zero-match order after the first halves the floor 100 / total), no effective order, brevity penalty
 * exp(1 − r/c). Segments are right-stripped before tokenising, as sacreBLEU does.
 */
export function corpusBleu(hypotheses: readonly string[], references: readonly string[], options: { tokenize?: BleuTokenizerName } = {}): BleuScore {
	if (hypotheses.length !== references.length) throw new ConfigError(`BLEU: ${hypotheses.length} hypotheses but ${references.length} references`);
	const tokenizerName = options.tokenize ?? "13a";
	const tokenize = bleuTokenizer(tokenizerName);
	const correct = [0, 0, 0, 0];
	const total = [0, 0, 0, 0];
	let sysLen = 0;
	let refLen = 0;
	for (let s = 0; s < hypotheses.length; s++) {
		const hyp = wordNgrams(tokenize(pythonRstrip(hypotheses[s] as string)));
		const ref = wordNgrams(tokenize(pythonRstrip(references[s] as string)));
		sysLen += hyp.length;
		refLen += ref.length;
		for (const [ngram, count] of hyp.ngrams) {
			const n = ngram.split(" ").length - 1;
			total[n] = (total[n] as number) + count;
			const inRef = ref.ngrams.get(ngram);
			if (inRef !== undefined) correct[n] = (correct[n] as number) + Math.min(count, inRef);
		}
	}
	const signature = `nrefs:1|case:mixed|eff:no|tok:${tokenizerName}|smooth:exp|version:${SACREBLEU_VERSION}`;
	let bp = 1;
	if (sysLen < refLen) bp = sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0;
	const precisions = [0, 0, 0, 0];
	if (!correct.some((c) => c !== 0)) return { score: 0, counts: correct, totals: total, precisions, bp, sysLen, refLen, signature };
	let smoothMteval = 1;
	for (let n = 1; n <= MAX_NGRAM_ORDER; n++) {
		const t = total[n - 1] as number;
		const c = correct[n - 1] as number;
		if (t === 0) break;
		if (c === 0) {
			smoothMteval *= 2;
			precisions[n - 1] = 100 / (smoothMteval * t);
		} else precisions[n - 1] = (100 * c) / t;
	}
	let logSum = 0;
	for (const p of precisions) logSum += floorLog(p);
	const score = bp * Math.exp(logSum / MAX_NGRAM_ORDER);
	return { score, counts: correct, totals: total, precisions, bp, sysLen, refLen, signature };
}
