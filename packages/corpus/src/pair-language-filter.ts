import { checkLanguage } from "@transllm/core";
import type { CorpusPair } from "./document.js";
import type { Filter, FilterVerdict } from "./filter.js";
import { drop } from "./filter.js";

export interface PairLanguageFilterParams {
	/** Minimum language-ID confidence on each side (core `checkLanguage`; default 0.05). */
	minConfidence?: number;
	/** Minimum share of letters in each side's script (default 0.5). */
	minScriptRatio?: number;
	/** Languages the identifier may choose among. */
	candidates?: readonly string[];
	name?: string;
}

/**
 * Checks the language of both sides of a pair with @transllm/core's `checkLanguage` (script share, then language
 * ID with a confidence threshold): a pair whose sides are swapped, untranslated or in a third language is
 * dropped as `source_language` or `target_language`.
 */
export class PairLanguageFilter implements Filter<CorpusPair> {
	readonly name: string;

	constructor(private readonly params: PairLanguageFilterParams = {}) {
		this.name = params.name ?? "pair_language";
	}

	filter(pair: CorpusPair): FilterVerdict {
		const options = { minConfidence: this.params.minConfidence, minScriptRatio: this.params.minScriptRatio, candidates: this.params.candidates };
		const source = checkLanguage(pair.source, pair.sourceLang, options);
		if (!source.ok) return drop("source_language", { detected: source.detected, confidence: source.confidence, why: source.reason });
		const target = checkLanguage(pair.target, pair.targetLang, options);
		if (!target.ok) return drop("target_language", { detected: target.detected, confidence: target.confidence, why: target.reason });
		return true;
	}
}
