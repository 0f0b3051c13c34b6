import { ConfigError, getLanguage, identifyLanguage } from "@transllm/core";
import type { Filter, FilterVerdict } from "./filter.js";
import { drop } from "./filter.js";

export interface LanguageIdFilterParams {
	/** The language documents must be in. */
	lang: string;
	/**
	 * Minimum identification confidence: @transllm/core's margin of the best language over the runner-up, in
	 * [0, 1] (default 0.05, core's `checkLanguage` default).
	 */
	minConfidence?: number;
	/** Languages the identifier may choose among (default: every language it knows). */
	candidates?: readonly string[];
	name?: string;
}

/**
 * Drops documents that @transllm/core's language identifier does not place in `lang` (`wrong_language`), or
 * places there with a confidence under the threshold (`low_language_confidence`).
 */
export class LanguageIdFilter implements Filter<{ text: string }> {
	readonly name: string;
	private readonly lang: string;
	private readonly minConfidence: number;
	private readonly candidates?: readonly string[];

	constructor(params: LanguageIdFilterParams) {
		this.name = params.name ?? "language_id";
		this.lang = getLanguage(params.lang).code;
		this.minConfidence = params.minConfidence ?? 0.05;
		if (!(this.minConfidence >= 0 && this.minConfidence <= 1)) throw new ConfigError(`language-ID confidence must lie in [0, 1], got ${this.minConfidence}`);
		this.candidates = params.candidates;
	}

	filter(document: { text: string }): FilterVerdict {
		const { lang, confidence } = identifyLanguage(document.text, { candidates: this.candidates });
		if (lang !== this.lang) return drop("wrong_language", { detected: lang, confidence });
		if (confidence < this.minConfidence) return drop("low_language_confidence", { detected: lang, confidence });
		return true;
	}
}
