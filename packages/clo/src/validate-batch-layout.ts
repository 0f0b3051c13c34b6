import { checkLanguage, getLanguage, readJsonl } from "@transllm/core";
import type { LanguageCheckOptions } from "@transllm/core";
import { checkBatchGeometry } from "./batch-layout.js";
import { detectPreferenceFormat, pairMismatch, toPreferenceRow } from "./preference-rows.js";
import type { PreferenceFileFormat, PreferenceRow } from "./preference-rows.js";

export interface ValidateBatchLayoutParams {
	/** A JSONL file written by `transllm clo pairs` (any of its forms). */
	file: string;
	/** Rows per device per step the trainer will use. */
	perDeviceBatchSize: number;
	/** Data-parallel devices (default 1). */
	devices?: number;
	/** Target language: also check that even rows have English prompts and odd rows target-language prompts. */
	lang?: string;
	/** Options of the prompt language check. */
	languageCheck?: LanguageCheckOptions;
	/** Errors listed in the report (all are counted; default 20). */
	maxErrors?: number;
}

export interface LayoutProblem {
	/** 1-based line of the first row concerned. */
	line: number;
	message: string;
}

export interface BatchLayoutReport {
	ok: boolean;
	file: string;
	format: PreferenceFileFormat | "empty";
	rows: number;
	pairs: number;
	perDeviceBatchSize: number;
	devices: number;
	/** Optimizer steps per epoch (perDeviceBatchSize × devices rows each). */
	steps: number;
	/** Rows of a short last step (0 when every step is full). */
	remainderRows: number;
	errorCount: number;
	errors: LayoutProblem[];
	warnings: string[];
}

/**
 * Checks that a written preference file keeps every CLO pair in one batch for a per-device batch size and a
 * number of devices: the batch size is even, rows 2k and 2k+1 are one pair (each one's chosen answer is the
 * other's rejected answer, English row first), so with a sequential sampler no batch boundary can split a pair.
 * A short last step is reported as a warning (pairs stay whole; accelerate pads it with rows from the start).
 */
export async function validateBatchLayout(params: ValidateBatchLayoutParams): Promise<BatchLayoutReport> {
	const devices = params.devices ?? 1;
	const maxErrors = params.maxErrors ?? 20;
	const errors: LayoutProblem[] = [];
	const warnings: string[] = [];
	let errorCount = 0;
	const fail = (line: number, message: string): void => {
		errorCount += 1;
		if (errors.length < maxErrors) errors.push({ line, message });
	};
	try {
		checkBatchGeometry(params.perDeviceBatchSize, devices);
	} catch (error) {
		fail(0, (error as Error).message);
	}
	const target = params.lang !== undefined ? getLanguage(params.lang).code : undefined;
	let format: PreferenceFileFormat | undefined;
	let rows = 0;
	let pending: PreferenceRow | undefined;

	const checkPair = (en: PreferenceRow, t: PreferenceRow): void => {
		const mismatch = pairMismatch(en, t);
		if (mismatch) fail(en.line, mismatch);
		else if (target) {
			const english = checkLanguage(en.prompt, "en", params.languageCheck);
			const translated = checkLanguage(t.prompt, target, params.languageCheck);
			if (!english.ok) fail(en.line, `line ${en.line}: an even row must have an English prompt (${english.reason ?? english.detected})`);
			if (!translated.ok) fail(t.line, `line ${t.line}: an odd row must have a ${target} prompt (${translated.reason ?? translated.detected})`);
		}
	};

	for await (const { value, line } of readJsonl(params.file)) {
		format ??= detectPreferenceFormat(value);
		if (format === undefined) {
			fail(line, "not a preference row (expected pair_id/row, prompt/chosen/rejected or instruction/chosen/rejected)");
			break;
		}
		rows += 1;
		const row = toPreferenceRow(value, format, line);
		if (typeof row === "string") {
			fail(line, row);
			pending = undefined;
			continue;
		}
		if (pending === undefined) pending = row;
		else {
			checkPair(pending, row);
			pending = undefined;
		}
	}
	// An empty file trains nothing: it is no valid preference file.
	if (rows === 0 && errorCount === 0) fail(0, "the file holds no preference rows");
	if (rows % 2 !== 0) fail(pending?.line ?? rows, `${rows} rows: an odd count leaves the last row without its pair`);
	const rowsPerStep = params.perDeviceBatchSize * devices;
	const remainderRows = rowsPerStep > 0 ? rows % rowsPerStep : 0;
	if (remainderRows > 0 && errorCount === 0) {
		warnings.push(`${rows} rows are not a multiple of ${rowsPerStep} (${params.perDeviceBatchSize} per device × ${devices} devices): the last step has ${remainderRows} rows, padded by accelerate with rows from the start`);
	}
	return {
		ok: errorCount === 0,
		file: params.file,
		format: format ?? "empty",
		rows,
		pairs: Math.floor(rows / 2),
		perDeviceBatchSize: params.perDeviceBatchSize,
		devices,
		steps: rowsPerStep > 0 ? Math.ceil(rows / rowsPerStep) : 0,
		remainderRows,
		errorCount,
		errors,
		warnings,
	};
}
