import { ConfigError } from "@transllm/core";
import type { CorpusPair } from "./document.js";
import type { Filter, FilterVerdict } from "./filter.js";
import { drop, roundRatio } from "./filter.js";
import { countCodePoints } from "./length-filter.js";
import { splitWords } from "./split-words.js";

export interface LengthRatioFilterParams {
	/** Maximum ratio of the longer side to the shorter one (default 3). */
	maxRatio?: number;
	/**
	 * `words` (default): `splitWords` of each side's language (whitespace, or `Intl.Segmenter` for Thai and
	 * Chinese, which keeps en–zh ratios near 1 where characters would give 3–5); `chars`: code points.
	 */
	unit?: "words" | "chars";
	/** Bounds on each side's length in `unit`, inclusive (default 1 and unbounded). */
	minLength?: number;
	maxLength?: number;
	name?: string;
}

/**
 * The usual sentence-pair cleaning of parallel corpora (Moses' clean-corpus-n): drops pairs with an empty side
 * (`empty_side`), a side outside the length bounds (`too_short`, `too_long`), or a length ratio above the
 * maximum (`length_ratio`), which flags misalignments.
 */
export class LengthRatioFilter implements Filter<CorpusPair> {
	readonly name: string;
	private readonly maxRatio: number;
	private readonly unit: "words" | "chars";
	private readonly minLength: number;
	private readonly maxLength: number;

	constructor(params: LengthRatioFilterParams = {}) {
		this.name = params.name ?? "length_ratio";
		this.maxRatio = params.maxRatio ?? 3;
		this.unit = params.unit ?? "words";
		this.minLength = params.minLength ?? 1;
		this.maxLength = params.maxLength ?? Number.POSITIVE_INFINITY;
		if (!(this.maxRatio >= 1)) throw new ConfigError(`maximum length ratio must be ≥ 1, got ${this.maxRatio}`);
		if (this.unit !== "words" && this.unit !== "chars") throw new ConfigError(`length unit must be words or chars, got ${String(this.unit)}`);
	}

	private lengthOf(text: string, lang: string): number {
		return this.unit === "words" ? splitWords(text, lang).length : countCodePoints(text.trim());
	}

	filter(pair: CorpusPair): FilterVerdict {
		if (pair.source.trim() === "" || pair.target.trim() === "") return drop("empty_side");
		const source = this.lengthOf(pair.source, pair.sourceLang);
		const target = this.lengthOf(pair.target, pair.targetLang);
		if (Math.min(source, target) < this.minLength) return drop("too_short", { source, target });
		if (Math.max(source, target) > this.maxLength) return drop("too_long", { source, target });
		const ratio = Math.max(source, target) / Math.max(1, Math.min(source, target));
		return ratio > this.maxRatio ? drop("length_ratio", { ratio: roundRatio(ratio), source, target }) : true;
	}
}
