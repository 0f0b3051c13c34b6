import { InputError, readJsonl } from "@transllm/core";
import type { CloSourceRecord } from "./clo-pair.js";

/** The file forms transllm writes and reads back: canonical CLO rows, TRL standard or conversational, LLaMA-Factory pairwise. */
export type PreferenceFileFormat = "clo" | "trl-standard" | "trl-conversational" | "llamafactory";

/** One preference row of any of those forms, reduced to its texts. */
export interface PreferenceRow {
	/** 1-based line in the file. */
	line: number;
	prompt: string;
	chosen: string;
	rejected: string;
	/** Canonical rows only. */
	pairId?: string;
	/** Canonical rows only: `en` or `target`. */
	row?: string;
}

function text(value: unknown): string | undefined {
	if (typeof value === "string") return value;
	// Conversational: the content of the last message (the answer, or the last user turn of a prompt).
	if (Array.isArray(value) && value.length > 0) {
		const last = value[value.length - 1] as { content?: unknown };
		return typeof last?.content === "string" ? last.content : undefined;
	}
	return undefined;
}

/** The form of a preference file, from its first record; undefined when it is none of them. */
export function detectPreferenceFormat(record: Record<string, unknown>): PreferenceFileFormat | undefined {
	if (typeof record.pair_id === "string" && typeof record.row === "string") return "clo";
	if (typeof record.instruction === "string" && "chosen" in record) return "llamafactory";
	if (Array.isArray(record.prompt)) return "trl-conversational";
	if (typeof record.prompt === "string") return "trl-standard";
	return undefined;
}

/** A record of a known form as a PreferenceRow, or the reason it is not one. */
export function toPreferenceRow(record: Record<string, unknown>, format: PreferenceFileFormat, line: number): PreferenceRow | string {
	const prompt = text(format === "llamafactory" ? record.instruction : record.prompt);
	const chosen = text(record.chosen);
	const rejected = text(record.rejected);
	if (prompt === undefined) return `no ${format === "llamafactory" ? "instruction" : "prompt"} text (file form ${format})`;
	if (chosen === undefined) return "no chosen answer text";
	if (rejected === undefined) return "no rejected answer text";
	const row: PreferenceRow = { line, prompt, chosen, rejected };
	if (format === "clo") {
		row.pairId = String(record.pair_id);
		row.row = String(record.row);
	}
	return row;
}

/**
 * Why two consecutive rows are not one CLO pair (English row, then its target row), or undefined when they are:
 * the ids and row kinds of canonical files must match, and each row's chosen answer must be the other's rejected.
 */
export function pairMismatch(en: PreferenceRow, target: PreferenceRow): string | undefined {
	const where = `lines ${en.line}–${target.line}`;
	if (en.pairId !== undefined && en.pairId !== target.pairId) return `${where}: pair ids differ ("${en.pairId}" then "${target.pairId}"): a pair is split`;
	if (en.row !== undefined && (en.row !== "en" || target.row !== "target")) return `${where}: rows are "${en.row}" then "${target.row}"; each pair must be the English row then the target row`;
	if (en.chosen !== target.rejected || en.rejected !== target.chosen) return `${where}: the rows do not mirror each other (row 2k's chosen answer must be row 2k+1's rejected one): a pair is split`;
	if (en.chosen === en.rejected) return `${where}: chosen and rejected answers are equal`;
	return undefined;
}

/** A pair read back from a preference file: the record it was built from, and where it sits. */
export interface PreferencePair {
	pairId: string;
	/** Line of the English row. */
	line: number;
	record: CloSourceRecord;
}

/**
 * Reads the CLO pairs of a preference file written by `transllm clo pairs` (any form): rows 2k and 2k+1 must be
 * one pair, English row first; anything else is an InputError naming the file and lines.
 */
export async function* readPreferencePairs(file: string): AsyncGenerator<PreferencePair> {
	let format: PreferenceFileFormat | undefined;
	let pending: PreferenceRow | undefined;
	for await (const { value, line } of readJsonl(file)) {
		format ??= detectPreferenceFormat(value);
		if (format === undefined) throw new InputError("not a preference row (expected pair_id/row, prompt/chosen/rejected or instruction/chosen/rejected)", { file, line });
		const row = toPreferenceRow(value, format, line);
		if (typeof row === "string") throw new InputError(row, { file, line });
		if (pending === undefined) {
			pending = row;
			continue;
		}
		const mismatch = pairMismatch(pending, row);
		if (mismatch) throw new InputError(mismatch, { file });
		yield {
			pairId: pending.pairId ?? `${pending.line}`,
			line: pending.line,
			record: { query_en: pending.prompt, response_en: pending.chosen, query_t: row.prompt, response_t: row.chosen },
		};
		pending = undefined;
	}
	if (pending) throw new InputError("the last row has no pair (odd number of rows)", { file, line: pending.line });
}
