/** A pairwise verdict: assistant A better, B better, or a tie ([[C]]); `error` when none could be read. */
export type PairwiseVerdict = "A" | "B" | "tie" | "error";

const VERDICTS: [string, PairwiseVerdict][] = [
	["[[A]]", "A"],
	["[[B]]", "B"],
	["[[C]]", "tie"],
];

/**
 * Reads `[[A]]`, `[[B]]` or `[[C]]` from a judgment, as FastChat's MT-Bench judge does (fastchat/llm_judge/common.py).
 * Unlike FastChat, which takes the first of A, B, C that occurs anywhere, a judgment naming two different verdicts is
 * an error too: it is retried and counted, never read as a win or a tie.
 */
export function parsePairwiseVerdict(judgment: string): PairwiseVerdict {
	const found = VERDICTS.filter(([marker]) => judgment.includes(marker)).map(([, verdict]) => verdict);
	return found.length === 1 ? (found[0] as PairwiseVerdict) : "error";
}

/**
 * Reads the rating `[[7]]` of a single-answer judgment (1–10), as FastChat does (`\[\[(\d+\.?\d*)\]\]`, then
 * `\[(\d+\.?\d*)\]`); undefined when there is none or it lies outside 1–10.
 */
export function parseRating(judgment: string): number | undefined {
	const match = /\[\[(\d+\.?\d*)\]\]/.exec(judgment) ?? /\[(\d+\.?\d*)\]/.exec(judgment);
	if (!match) return undefined;
	const rating = Number(match[1]);
	return rating >= 1 && rating <= 10 ? rating : undefined;
}
