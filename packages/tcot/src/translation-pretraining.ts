import { ConfigError, SeededRng } from "@transllm/core";
import { normalizeLanguage, targetLanguageToken } from "./special-tokens.js";
import type { ParallelPair } from "./translation-instances.js";

// One line of the `\n`-separated stream: a newline inside a sentence would split its instance in two.
function oneLine(text: string): string {
	return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}

/**
 * The two translation pre-training instances of a parallel pair (s^α, s^β) (`../shared/papers/000_1ce36f3811662daf.txt`
 * Sec. 2.2.2): cat(s^α, ⟨β⟩, s^β) and cat(s^β, ⟨α⟩, s^α), e.g. `"Hello <TH> สวัสดี"` and `"สวัสดี <EN> Hello"`.
 * Parts are joined by single spaces (as in the TCOT format); line breaks inside a sentence become spaces.
 */
export function translationPretrainingPair(pair: ParallelPair): [string, string] {
	const source = oneLine(pair.source);
	const target = oneLine(pair.target);
	const sourceToken = targetLanguageToken(normalizeLanguage(pair.sourceLang));
	const targetToken = targetLanguageToken(normalizeLanguage(pair.targetLang));
	return [`${source} ${targetToken} ${target}`, `${target} ${sourceToken} ${source}`];
}

export interface InterleaveOptions {
	seed: string | number;
	/**
	 * Number of parallel pairs and of English lines. With both, the merge streams in constant memory and every
	 * interleaving is equally likely. A count left out is taken from an array, or else that source is read into
	 * memory first. A count that turns out wrong still gives a complete output, only not exactly uniform.
	 */
	pairCount?: number;
	englishLineCount?: number;
}

type Source<T> = AsyncIterable<T> | Iterable<T>;

function iteratorOf<T>(source: Source<T>): AsyncIterator<T> | Iterator<T> {
	return Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
}

async function withCount<T>(source: Source<T>, count: number | undefined): Promise<{ source: Source<T>; count: number }> {
	if (count !== undefined) {
		if (!Number.isInteger(count) || count < 0) throw new ConfigError(`a count must be a non-negative integer, got ${count}`);
		return { source, count };
	}
	if (Array.isArray(source)) return { source, count: source.length };
	const items: T[] = [];
	for await (const item of source) items.push(item);
	return { source: items, count: items.length };
}

/**
 * Translation pre-training text (Sec. 2.2.2): "we randomly insert the translation instance between English
 * monolingual data using line break "\n" as the separator". Yields the lines of that stream in order (join them with
 * `\n`): every English line once, in its order, and both instances of every pair, each at a uniformly random
 * position. Positions come from sequential draws — the next line is a translation instance with probability
 * (instances left) / (lines left) — so with known counts nothing is held in memory.
 */
export async function* interleaveTranslationPretraining(
	pairs: Source<ParallelPair>,
	englishLines: Source<string>,
	options: InterleaveOptions,
): AsyncGenerator<string> {
	const rng = new SeededRng(options.seed).fork("translation-pretraining");
	const pairSource = await withCount(pairs, options.pairCount);
	const englishSource = await withCount(englishLines, options.englishLineCount);
	const pairIterator = iteratorOf(pairSource.source);
	const englishIterator = iteratorOf(englishSource.source);
	let instancesLeft = pairSource.count * 2;
	let englishLeft = englishSource.count;
	let pending: string | undefined;
	let pairsDone = false;
	let englishDone = false;

	const nextInstance = async (): Promise<string | undefined> => {
		if (pending !== undefined) {
			const second = pending;
			pending = undefined;
			return second;
		}
		if (pairsDone) return undefined;
		const next = await pairIterator.next();
		if (next.done) {
			pairsDone = true;
			return undefined;
		}
		// The two directions of a pair are independent instances, but drawn as consecutive slots of the stream:
		// only their order of arrival is fixed, never their positions.
		const [forward, backward] = translationPretrainingPair(next.value);
		pending = backward;
		return forward;
	};
	const nextEnglish = async (): Promise<string | undefined> => {
		if (englishDone) return undefined;
		const next = await englishIterator.next();
		if (next.done) {
			englishDone = true;
			return undefined;
		}
		return next.value;
	};

	while (!(pairsDone && pending === undefined) || !englishDone) {
		// A count that ran out while its source still has items keeps a weight of one (see InterleaveOptions).
		const instanceWeight = pairsDone && pending === undefined ? 0 : Math.max(instancesLeft, 1);
		const englishWeight = englishDone ? 0 : Math.max(englishLeft, 1);
		const takeInstance = rng.float() * (instanceWeight + englishWeight) < instanceWeight;
		const line = takeInstance ? await nextInstance() : await nextEnglish();
		if (line === undefined) continue;
		if (takeInstance) instancesLeft -= 1;
		else englishLeft -= 1;
		yield line;
	}
}
