import { ConfigError, SeededRng } from "@transllm/core";
import type { CorpusPair } from "./document.js";

/** One continual pre-training entry of a parallel pair in LLaMAX's layout. */
export interface LayoutRecord {
	/** `prompt + " " + completion`: the whole entry, for pre-training with the loss on every token. */
	text: string;
	/** The first sentence (translated from). */
	prompt: string;
	/** The second sentence (translated into): the only loss-bearing part of an augmented entry. */
	completion: string;
	/** `<from>-<to>`, e.g. `th-en`. */
	direction: string;
	/** Code-switched (pseudo-parallel) entry: LLaMAX computes its loss on the completion only. */
	augmented: boolean;
	id: string;
}

export interface LayoutOptions {
	seed: string | number;
	/** Probability of the source→target direction for each entry (LLaMAX Sec. 2.1: 50%). */
	directionProbability?: number;
	/** Language pairs with fewer pairs than this are replicated (LLaMAX Sec. 2.1: 25,000). */
	lowResourceThreshold?: number;
	/** Copies of each pair of such a language pair (LLaMAX Sec. 2.1: "replicate the original data thrice"). */
	replication?: number;
}

type LanguagePair = Pick<CorpusPair, "sourceLang" | "targetLang">;

/** Unordered language-pair key (`en-th` for both en→th and th→en), the unit LLaMAX counts. */
export function languagePairKey(pair: LanguagePair): string {
	return [pair.sourceLang, pair.targetLang].sort().join("-");
}

/** Pairs per unordered language pair. */
export async function countLanguagePairs(pairs: AsyncIterable<LanguagePair> | Iterable<LanguagePair>): Promise<Map<string, number>> {
	const counts = new Map<string, number>();
	for await (const pair of pairs) counts.set(languagePairKey(pair), (counts.get(languagePairKey(pair)) ?? 0) + 1);
	return counts;
}

/**
 * LLaMAX's layout of parallel data for continual pre-training (`../shared/papers/002_b49e5c8fa0bdac53.txt`
 * Sec. 2.1 "Parallel Data"; App. G "connected-parallel"): source and target are concatenated "merely using a
 * space as a delimiter" into one entry; each entry is s→t or t→s with probability 50%; language pairs with fewer
 * than 25,000 sentence pairs are replicated three times, each copy drawing its own direction (the paper does not
 * say whether copies share one; see the README).
 *
 * `augmented` pairs (code-switched, `codeSwitchPairs`) are laid out source→target only and never replicated: the
 * code-switched sentence is the input and "the loss is computed solely on the target sentence" (Sec. 2.1,
 * "Data Generated Through Augmentation"). `counts` are the original pairs per language pair (`countLanguagePairs`).
 */
export async function* layoutParallel(
	pairs: AsyncIterable<CorpusPair & { augmented?: boolean }> | Iterable<CorpusPair & { augmented?: boolean }>,
	counts: ReadonlyMap<string, number>,
	options: LayoutOptions,
): AsyncGenerator<LayoutRecord> {
	const { direction, threshold, replication, rng } = layoutSettings(options);
	for await (const pair of pairs) yield* layoutOne(pair, counts, direction, threshold, replication, rng);
}

function layoutSettings(options: LayoutOptions): { direction: number; threshold: number; replication: number; rng: SeededRng } {
	const direction = options.directionProbability ?? 0.5;
	const threshold = options.lowResourceThreshold ?? 25_000;
	const replication = options.replication ?? 3;
	if (!(direction >= 0 && direction <= 1)) throw new ConfigError(`direction probability must lie in [0, 1], got ${direction}`);
	if (!(Number.isInteger(threshold) && threshold >= 0)) throw new ConfigError(`low-resource threshold must be an integer ≥ 0, got ${threshold}`);
	if (!(Number.isInteger(replication) && replication >= 1)) throw new ConfigError(`replication must be an integer ≥ 1, got ${replication}`);
	return { direction, threshold, replication, rng: new SeededRng(options.seed).fork("llamax-layout") };
}

function* layoutOne(
	pair: CorpusPair & { augmented?: boolean },
	counts: ReadonlyMap<string, number>,
	directionProbability: number,
	threshold: number,
	replication: number,
	rng: SeededRng,
): Generator<LayoutRecord> {
	if (pair.augmented) {
		yield { text: `${pair.source} ${pair.target}`, prompt: pair.source, completion: pair.target, direction: `${pair.sourceLang}-${pair.targetLang}`, augmented: true, id: pair.id };
		return;
	}
	const copies = (counts.get(languagePairKey(pair)) ?? 0) < threshold ? replication : 1;
	for (let copy = 0; copy < copies; copy++) {
		const forward = rng.bernoulli(directionProbability);
		const [prompt, completion, from, to] = forward ? [pair.source, pair.target, pair.sourceLang, pair.targetLang] : [pair.target, pair.source, pair.targetLang, pair.sourceLang];
		yield { text: `${prompt} ${completion}`, prompt, completion, direction: `${from}-${to}`, augmented: false, id: copies > 1 ? `${pair.id}#${copy + 1}` : pair.id };
	}
}
