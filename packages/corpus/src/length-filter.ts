import { ConfigError } from "@transllm/core";
import type { Filter, FilterVerdict } from "./filter.js";
import { drop } from "./filter.js";
import type { FilterSpec } from "./filter-spec.js";
import { sharedWords } from "./split-words.js";

export interface LengthFilterParams {
	/** Bounds on characters (Unicode code points), inclusive. */
	minChars?: number;
	maxChars?: number;
	/** Bounds on words (`splitWords`: whitespace, or `Intl.Segmenter` for languages without spaces), inclusive. */
	minWords?: number;
	maxWords?: number;
	/** Language of the text, for word counts. */
	lang?: string;
	name?: string;
}

/** Unicode code points of a text (a surrogate pair counts once). */
export function countCodePoints(text: string): number {
	let n = 0;
	for (let i = 0; i < text.length; i++) {
		const code = text.charCodeAt(i);
		if (code < 0xdc00 || code > 0xdfff) n += 1;
	}
	return n;
}

/** Drops documents outside length bounds (`too_short`, `too_long`); blank text is always `too_short`. */
export class LengthFilter implements Filter<{ text: string }> {
	readonly name: string;

	constructor(private readonly params: LengthFilterParams) {
		this.name = params.name ?? "length";
		for (const key of ["minChars", "maxChars", "minWords", "maxWords"] as const) {
			const value = params[key];
			if (value !== undefined && !(Number.isInteger(value) && value >= 0)) throw new ConfigError(`length bound ${key} must be an integer ≥ 0, got ${value}`);
		}
		if ((params.minWords !== undefined || params.maxWords !== undefined) && params.lang === undefined) throw new ConfigError("word bounds need the language (word splitting depends on it)");
	}

	/** This filter as data (`FilterSpec`), to build it again in a filter worker. */
	spec(): FilterSpec {
		return { kind: "length", params: this.params };
	}

	filter(document: { text: string }): FilterVerdict {
		const { minChars, maxChars, minWords, maxWords, lang } = this.params;
		if (document.text.trim() === "") return drop("too_short", { chars: 0 });
		if (minChars !== undefined || maxChars !== undefined) {
			const chars = countCodePoints(document.text);
			if (minChars !== undefined && chars < minChars) return drop("too_short", { chars });
			if (maxChars !== undefined && chars > maxChars) return drop("too_long", { chars });
		}
		if (minWords !== undefined || maxWords !== undefined) {
			const words = sharedWords(document.text, lang as string).length;
			if (minWords !== undefined && words < minWords) return drop("too_short", { words });
			if (maxWords !== undefined && words > maxWords) return drop("too_long", { words });
		}
		return true;
	}
}
