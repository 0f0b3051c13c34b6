import { ConfigError } from "@transllm/core";
import { DuplicateLineFilter } from "./duplicate-line-filter.js";
import type { DuplicateLineFilterParams } from "./duplicate-line-filter.js";
import type { Filter } from "./filter.js";
import { LanguageIdFilter } from "./language-id-filter.js";
import type { LanguageIdFilterParams } from "./language-id-filter.js";
import { LengthFilter } from "./length-filter.js";
import type { LengthFilterParams } from "./length-filter.js";
import { NgramRepetitionFilter } from "./ngram-repetition-filter.js";
import type { NgramRepetitionFilterParams } from "./ngram-repetition-filter.js";
import { ScriptRatioFilter } from "./script-ratio-filter.js";
import type { ScriptRatioFilterParams } from "./script-ratio-filter.js";
import { WordListFilter } from "./word-list-filter.js";
import type { WordListFilterParams } from "./word-list-filter.js";

/**
 * A built-in document filter as plain data (its class and constructor parameters): what filter workers receive
 * to build the same filters in their own threads.
 */
export type FilterSpec =
	| { kind: "length"; params: LengthFilterParams }
	| { kind: "script_ratio"; params: ScriptRatioFilterParams }
	| { kind: "language_id"; params: LanguageIdFilterParams }
	| { kind: "duplicate_lines"; params: DuplicateLineFilterParams }
	| { kind: "ngram_repetition"; params: NgramRepetitionFilterParams }
	| { kind: "word_list"; params: WordListFilterParams & { words: string[] } };

/** Builds the filter a spec describes. */
export function filterFromSpec(spec: FilterSpec): Filter<{ text: string }> {
	switch (spec.kind) {
		case "length":
			return new LengthFilter(spec.params);
		case "script_ratio":
			return new ScriptRatioFilter(spec.params);
		case "language_id":
			return new LanguageIdFilter(spec.params);
		case "duplicate_lines":
			return new DuplicateLineFilter(spec.params);
		case "ngram_repetition":
			return new NgramRepetitionFilter(spec.params);
		case "word_list":
			return new WordListFilter(spec.params);
	}
}

/**
 * The spec of a built-in filter, or a `ConfigError` for any other filter (a custom class, or a subclass whose
 * behaviour a spec cannot carry): such filters run only in the calling thread.
 */
export function filterSpecOf(filter: Filter<unknown>): FilterSpec {
	const builtIn = [LengthFilter, ScriptRatioFilter, LanguageIdFilter, DuplicateLineFilter, NgramRepetitionFilter, WordListFilter];
	const constructor = Object.getPrototypeOf(filter)?.constructor;
	if (!builtIn.includes(constructor)) {
		throw new ConfigError(`filter "${filter.name}" is not one of the built-in filters, so it cannot run in a filter worker: run with one filter worker`);
	}
	return (filter as LengthFilter | ScriptRatioFilter | LanguageIdFilter | DuplicateLineFilter | NgramRepetitionFilter | WordListFilter).spec();
}
