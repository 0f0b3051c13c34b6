import { readFile } from "node:fs/promises";
import { InputError, writeJsonAtomic } from "@transllm/core";

/** The kinds of result the eval commands write. */
export type EvalKind = "answer" | "judge" | "single" | "safety" | "forgetting" | "language" | "translate";

/** A section of the pipeline report: a title and self-contained HTML (tables, inline SVG). */
export interface ReportSection {
	title: string;
	html: string;
}

/**
 * What every eval command writes: its numbers as JSON, plus the section it contributes to the report (`eval report`
 * collects the sections into one page). No wall-clock time is in it: a resumed run writes the same bytes.
 */
export interface EvalResult<T = Record<string, unknown>> {
	tool: "@transllm/eval";
	kind: EvalKind;
	/** The paper's table the result corresponds to. */
	paper: string;
	results: T;
	section: ReportSection;
}

export async function writeEvalResult<T>(path: string, result: EvalResult<T>): Promise<void> {
	await writeJsonAtomic(path, result);
}

/** Reads a result file written by an eval command (for `eval report` and the pipeline). */
export async function readEvalResult(path: string): Promise<EvalResult> {
	let value: EvalResult;
	try {
		value = JSON.parse(await readFile(path, "utf8")) as EvalResult;
	} catch (error) {
		throw new InputError(`not an eval result JSON: ${(error as Error).message}`, { file: path });
	}
	if (value?.tool !== "@transllm/eval" || typeof value.section?.html !== "string") throw new InputError("not a result of @transllm/eval (no tool/section)", { file: path });
	return value;
}
