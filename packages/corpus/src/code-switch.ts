import { ConfigError, SeededRng, getLanguage } from "@transllm/core";
import type { CorpusPair } from "./document.js";
import type { MultilingualLexicon } from "./multilingual-lexicon.js";
import { isSpaceDelimited, segmentWords } from "./split-words.js";

export interface CodeSwitchOptions {
	/**
	 * Probability that a word with a dictionary translation is replaced (default 0.3). LLaMAX says words are
	 * "randomly replaced" without a rate; 0.3 is the replacement rate of mRASP's random aligned substitution
	 * (Lin et al. 2020), the family of Pan et al. (2021) that LLaMAX follows.
	 */
	rate?: number;
	/** 1-hop (default, LLaMAX App. F) or 2-hop translations. */
	hops?: 1 | 2;
	/** Languages replacements may come from (default: any language other than the sentence's). */
	languages?: readonly string[];
	/** Lower-case the sentence first, as LLaMAX does (default true). */
	lowercase?: boolean;
}

/** One replaced word. */
export interface Replacement {
	word: string;
	translation: string;
	lang: string;
}

/**
 * Replaces words of a sentence by dictionary translations into other languages (LLaMAX
 * `../shared/papers/002_b49e5c8fa0bdac53.txt` Sec. 2.1, "Step 2: Constructing pseudo-parallel data"; Fig. 2).
 * The sentence is lower-cased and split into words (`Intl.Segmenter`: spaces and punctuation for most
 * languages, dictionary segmentation for Thai and Chinese, where LLaMAX uses Jieba); each word that the lexicon
 * knows is replaced with probability `rate` by one of its translations chosen uniformly. Everything between
 * words is kept; a word spliced into a language written without spaces gets spaces around it when its own
 * language uses them.
 */
export function codeSwitch(text: string, lang: string, lexicon: MultilingualLexicon, rng: SeededRng, options: CodeSwitchOptions = {}): { text: string; replacements: Replacement[] } {
	const rate = options.rate ?? 0.3;
	if (!(rate >= 0 && rate <= 1)) throw new ConfigError(`replacement rate must lie in [0, 1], got ${rate}`);
	const languages = options.languages ? new Set(options.languages.map((code) => getLanguage(code).code)) : undefined;
	const sentence = options.lowercase === false ? text : text.toLowerCase();
	const spaced = isSpaceDelimited(lang);
	const parts: string[] = [];
	const replacements: Replacement[] = [];
	for (const segment of segmentWords(sentence, lang)) {
		const candidates = segment.isWord ? lexicon.translations(lang, segment.text, { hops: options.hops, languages }) : [];
		if (candidates.length === 0 || !rng.bernoulli(rate)) {
			parts.push(segment.text);
			continue;
		}
		const choice = rng.pick(candidates);
		replacements.push({ word: segment.text, translation: choice.word, lang: choice.lang });
		if (!spaced && isSpaceDelimited(choice.lang)) {
			const previous = parts[parts.length - 1];
			parts.push(`${previous !== undefined && !/\s$/.test(previous) ? " " : ""}${choice.word} `);
		} else parts.push(choice.word);
	}
	return { text: parts.join("").replace(/ {2,}/g, " ").trim(), replacements };
}

/** A code-switched (pseudo-parallel) pair: `source` is the switched sentence, `target` the untouched translation. */
export interface AugmentedPair extends CorpusPair {
	augmented: true;
	replacements: Replacement[];
}

export interface CodeSwitchPairsOptions extends CodeSwitchOptions {
	seed: string | number;
	/**
	 * `both` (default): switch the source of s→t and, separately, the target of t→s (LLaMAX Algorithm 1 builds
	 * D_aug^{s→t} ∪ D_aug^{t→s}); `forward`: s→t only.
	 */
	directions?: "both" | "forward";
}

/**
 * Pseudo-parallel pairs from parallel pairs (the augmentation LLaMAX keeps: parallel, not monolingual, Sec. 3.2,
 * Table 3). Each pair draws from its own generator seeded by `seed` and its id, so the output does not depend on
 * the order or batching of the input. A direction in which no word was replaced yields nothing (it would only
 * repeat the pair).
 */
export async function* codeSwitchPairs(
	pairs: AsyncIterable<CorpusPair> | Iterable<CorpusPair>,
	lexicon: MultilingualLexicon,
	options: CodeSwitchPairsOptions,
): AsyncGenerator<AugmentedPair> {
	const directions = options.directions ?? "both";
	if (directions !== "both" && directions !== "forward") throw new ConfigError(`directions must be both or forward, got ${String(directions)}`);
	for await (const pair of pairs) {
		const rng = new SeededRng(`${String(options.seed)}/code-switch/${pair.id}`);
		const forward = codeSwitch(pair.source, pair.sourceLang, lexicon, rng, options);
		if (forward.replacements.length > 0) {
			yield { ...pair, id: `${pair.id}#cs-${pair.sourceLang}-${pair.targetLang}`, source: forward.text, augmented: true, replacements: forward.replacements };
		}
		if (directions === "forward") continue;
		const backward = codeSwitch(pair.target, pair.targetLang, lexicon, rng, options);
		if (backward.replacements.length > 0) {
			yield {
				...pair,
				id: `${pair.id}#cs-${pair.targetLang}-${pair.sourceLang}`,
				source: backward.text,
				target: pair.source,
				sourceLang: pair.targetLang,
				targetLang: pair.sourceLang,
				augmented: true,
				replacements: backward.replacements,
			};
		}
	}
}
