import { ConfigError } from "@transllm/core";
import type { Filter, FilterVerdict } from "./filter.js";
import type { FilterSpec } from "./filter-spec.js";
import { drop, roundRatio } from "./filter.js";

export interface DuplicateLineFilterParams {
	/** Maximum fraction of lines that repeat an earlier line (default 0.30, Gopher). */
	maxLineFraction?: number;
	/** Maximum fraction of characters in repeated lines (default 0.20, Gopher). */
	maxLineCharFraction?: number;
	/** Maximum fraction of paragraphs (blank-line separated) that repeat an earlier one (default 0.30, Gopher). */
	maxParagraphFraction?: number;
	/** Maximum fraction of characters in repeated paragraphs (default 0.20, Gopher). */
	maxParagraphCharFraction?: number;
	name?: string;
}

/** Count and characters of the elements that repeat an earlier element. */
function repeated(elements: readonly string[]): { count: number; chars: number } {
	const seen = new Set<string>();
	let count = 0;
	let chars = 0;
	for (const element of elements) {
		if (seen.has(element)) {
			count += 1;
			chars += element.length;
		} else seen.add(element);
	}
	return { count, chars };
}

/**
 * Drops documents made of repeated lines or paragraphs (menus, navigation, spam). The statistics and default
 * thresholds are Gopher's repetition rules (Rae et al. 2021, Table A1), which TransLLM's papers leave unstated;
 * every threshold is configurable. Reasons: `duplicate_lines`, `duplicate_line_chars`, `duplicate_paragraphs`,
 * `duplicate_paragraph_chars`.
 */
export class DuplicateLineFilter implements Filter<{ text: string }> {
	readonly name: string;
	readonly #params: DuplicateLineFilterParams;
	private readonly limits: Required<Omit<DuplicateLineFilterParams, "name">>;

	constructor(params: DuplicateLineFilterParams = {}) {
		this.#params = params;
		this.name = params.name ?? "duplicate_lines";
		this.limits = {
			maxLineFraction: params.maxLineFraction ?? 0.3,
			maxLineCharFraction: params.maxLineCharFraction ?? 0.2,
			maxParagraphFraction: params.maxParagraphFraction ?? 0.3,
			maxParagraphCharFraction: params.maxParagraphCharFraction ?? 0.2,
		};
		for (const [key, value] of Object.entries(this.limits)) {
			if (!(value >= 0 && value <= 1)) throw new ConfigError(`${key} must lie in [0, 1], got ${value}`);
		}
	}

	/** This filter as data (`FilterSpec`), to build it again in a filter worker. */
	spec(): FilterSpec {
		return { kind: "duplicate_lines", params: this.#params };
	}

	filter(document: { text: string }): FilterVerdict {
		const text = document.text;
		if (text.length === 0) return true;
		const paragraphs = text.split(/\n{2,}/).map((p) => p.trim()).filter((p) => p !== "");
		if (paragraphs.length > 1) {
			const { count, chars } = repeated(paragraphs);
			if (count / paragraphs.length > this.limits.maxParagraphFraction) return drop("duplicate_paragraphs", { fraction: roundRatio(count / paragraphs.length) });
			if (chars / text.length > this.limits.maxParagraphCharFraction) return drop("duplicate_paragraph_chars", { fraction: roundRatio(chars / text.length) });
		}
		const lines = text.split("\n").map((line) => line.trim()).filter((line) => line !== "");
		if (lines.length > 1) {
			const { count, chars } = repeated(lines);
			if (count / lines.length > this.limits.maxLineFraction) return drop("duplicate_lines", { fraction: roundRatio(count / lines.length) });
			if (chars / text.length > this.limits.maxLineCharFraction) return drop("duplicate_line_chars", { fraction: roundRatio(chars / text.length) });
		}
		return true;
	}
}
