import { checkLanguage, getLanguage } from "@transllm/core";
import type { LanguageCheckOptions } from "@transllm/core";

/**
 * An SFT record with its translation (the output of @transllm/recovery-kd, or any SFT set plus a translation):
 * x_en, y_en and x_t, y_t of `../shared/papers/004_804f498cca6890cb.txt` Sec. 3.2.
 */
export interface CloSourceRecord {
	id?: string | number;
	query_en: string;
	response_en: string;
	query_t: string;
	response_t: string;
	/** Target language of the translation; must match the target language asked for when present. */
	lang?: string;
}

/** Which half of a pair a row is: the English query or its translation. */
export type CloRowKind = "en" | "target";

/**
 * One preference row (Sec. 3.2, "Cross-Lingual Dataset Preparation"): for x_en the chosen answer is y_en and
 * the rejected one y_t; for x_t the chosen answer is y_t and the rejected one y_en.
 */
export interface CloRow {
	/** Shared by the English row and the target row built from one record. */
	pair_id: string;
	row: CloRowKind;
	prompt: string;
	chosen: string;
	rejected: string;
	prompt_lang: string;
	chosen_lang: string;
	rejected_lang: string;
}

/** The two rows built from one record; they must share a batch in training (App. A). */
export interface CloPair {
	id: string;
	en: CloRow;
	target: CloRow;
}

/** Builds the English row and the target row of one record (Sec. 3.2; App. A "Cross-Lingual Dataset Preparation"). */
export function buildCloPair(record: CloSourceRecord, params: { id: string; lang: string }): CloPair {
	const target = getLanguage(params.lang).code;
	return {
		id: params.id,
		en: {
			pair_id: params.id,
			row: "en",
			prompt: record.query_en,
			chosen: record.response_en,
			rejected: record.response_t,
			prompt_lang: "en",
			chosen_lang: "en",
			rejected_lang: target,
		},
		target: {
			pair_id: params.id,
			row: "target",
			prompt: record.query_t,
			chosen: record.response_t,
			rejected: record.response_en,
			prompt_lang: target,
			chosen_lang: target,
			rejected_lang: "en",
		},
	};
}

/** Why a record cannot become a CLO pair. */
export interface CloPairProblem {
	/** The record field at fault. */
	field: keyof CloSourceRecord;
	/** What the field is in the pair (e.g. "target row chosen, English row rejected"). */
	role: string;
	reason: string;
	expected?: string;
	detected?: string;
	confidence?: number;
	scriptRatio?: number;
}

/** Thresholds of core's `checkLanguage` (minConfidence, minScriptRatio, candidates). */
export type CheckCloPairOptions = LanguageCheckOptions;

// Each text of a record plays two roles in the pair; the check is done once per text.
const ROLES: ReadonlyArray<{ field: "query_en" | "response_en" | "query_t" | "response_t"; english: boolean; role: string }> = [
	{ field: "query_en", english: true, role: "English row prompt" },
	{ field: "response_en", english: true, role: "English row chosen answer and target row rejected answer" },
	{ field: "query_t", english: false, role: "target row prompt" },
	{ field: "response_t", english: false, role: "target row chosen answer and English row rejected answer" },
];

/**
 * The language checks of a pair: each chosen answer must be in its prompt's language and each rejected answer
 * in the other one. With x_en, y_en in English and x_t, y_t in the target language all four hold; a
 * translation that is a copy of its source makes chosen and rejected equal (z ≡ 0 in Eq. 11–12) and fails too.
 */
export function checkCloPair(record: CloSourceRecord, lang: string, options: CheckCloPairOptions = {}): CloPairProblem[] {
	const target = getLanguage(lang).code;
	const problems: CloPairProblem[] = [];
	for (const { field, english, role } of ROLES) {
		const expected = english ? "en" : target;
		const result = checkLanguage(record[field], expected, options);
		if (!result.ok) {
			problems.push({
				field,
				role,
				reason: `not in ${expected}: ${result.reason ?? `identified as ${result.detected}`}`,
				expected,
				detected: result.detected,
				confidence: result.confidence,
				scriptRatio: result.scriptRatio,
			});
		}
	}
	if (record.response_en.trim() === record.response_t.trim()) {
		problems.push({ field: "response_t", role: "target row chosen answer and English row rejected answer", reason: "untranslated: response_t equals response_en, so chosen equals rejected" });
	}
	if (record.query_en.trim() === record.query_t.trim()) {
		problems.push({ field: "query_t", role: "target row prompt", reason: "untranslated: query_t equals query_en" });
	}
	return problems;
}

/** Structural check of an input record (for the JSONL reader): a reason, or undefined when usable. */
export function invalidCloSourceRecord(record: Record<string, unknown>, lang: string): string | undefined {
	for (const field of ["query_en", "response_en", "query_t", "response_t"]) {
		const value = record[field];
		if (typeof value !== "string") return `field "${field}" must be a string, got ${value === undefined ? "nothing" : typeof value}`;
		if (value.trim() === "") return `field "${field}" is empty`;
	}
	if (record.id !== undefined && typeof record.id !== "string" && typeof record.id !== "number") return `field "id" must be a string or a number`;
	if (record.lang !== undefined) {
		if (typeof record.lang !== "string") return `field "lang" must be a string`;
		let code: string;
		try {
			code = getLanguage(record.lang).code;
		} catch {
			return `field "lang" is an unknown language code "${record.lang}"`;
		}
		if (code !== getLanguage(lang).code) return `field "lang" is "${record.lang}" but the target language is "${lang}"`;
	}
	return undefined;
}
