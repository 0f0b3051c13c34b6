import { ConfigError, getLanguage, identifyLanguage } from "@transllm/core";
import type { Filter, FilterVerdict } from "./filter.js";
import type { FilterSpec } from "./filter-spec.js";
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
 * franc, behind core's `identifyLanguage`, reads only the first 2,048 UTF-16 code units of a text
 * (`MAX_LENGTH` in franc 6), so handing it that prefix changes nothing, while core's script vote and length
 * check over a whole long document cost as much as franc itself.
 */
export const FRANC_MAX_LENGTH = 2048;

/**
 * The part of `text` that decides its identification: the first `FRANC_MAX_LENGTH` code units, unless that
 * prefix is nearly blank (then core's "too short to identify" check must see the whole text).
 */
export function identificationPrefix(text: string): string {
	if (text.length <= FRANC_MAX_LENGTH) return text;
	const prefix = text.slice(0, FRANC_MAX_LENGTH);
	// ≥ 20 code units after trimming are ≥ 10 code points: core's minimum (MIN_IDENTIFY_CHARACTERS) holds for both.
	return prefix.trim().length >= 20 ? prefix : text;
}

/**
 * Drops documents that @transllm/core's language identifier does not place in `lang` (`wrong_language`), or
 * places there with a confidence under the threshold (`low_language_confidence`).
 */
export class LanguageIdFilter implements Filter<{ text: string }> {
	readonly name: string;
	readonly #params: LanguageIdFilterParams;
	private readonly lang: string;
	private readonly minConfidence: number;
	private readonly candidates?: readonly string[];

	constructor(params: LanguageIdFilterParams) {
		this.#params = params;
		this.name = params.name ?? "language_id";
		this.lang = getLanguage(params.lang).code;
		this.minConfidence = params.minConfidence ?? 0.05;
		if (!(this.minConfidence >= 0 && this.minConfidence <= 1)) throw new ConfigError(`language-ID confidence must lie in [0, 1], got ${this.minConfidence}`);
		this.candidates = params.candidates;
	}

	/** This filter as data (`FilterSpec`), to build it again in a filter worker. */
	spec(): FilterSpec {
		return { kind: "language_id", params: this.#params };
	}

	filter(document: { text: string }): FilterVerdict {
		const { lang, confidence } = identifyLanguage(identificationPrefix(document.text), { candidates: this.candidates });
		if (lang !== this.lang) return drop("wrong_language", { detected: lang, confidence });
		if (confidence < this.minConfidence) return drop("low_language_confidence", { detected: lang, confidence });
		return true;
	}
}
