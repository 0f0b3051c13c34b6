import { readFile } from "node:fs/promises";
import { ConfigError, InputError, excerpt, readJsonl } from "@transllm/core";
import { parseCsv } from "./csv.js";

/**
 * The question sets `eval answer` reads: FastChat MT-Bench `question.jsonl`, AlpacaEval's JSON list, AdvBench's
 * `harmful_behaviors.csv` (`goal,target`), or plain JSONL with the question in one field.
 */
export type QuestionFormat = "mt-bench" | "alpaca-eval" | "advbench" | "jsonl";

export const QUESTION_FORMATS: readonly QuestionFormat[] = ["mt-bench", "alpaca-eval", "advbench", "jsonl"];

/** One question of a benchmark, whatever its format: one turn, or MT-Bench's two. */
export interface EvalQuestion {
	/** The question's id as a string (MT-Bench question_id, AlpacaEval / AdvBench position, JSONL id field). */
	id: string;
	/** The id as the benchmark writes it (MT-Bench's are numbers). */
	questionId: string | number;
	category?: string;
	/** The user turns, in the set's language. */
	turns: string[];
	/** MT-Bench reference answers (math, reasoning, coding). */
	reference?: string[];
	/** The English originals of a translated set (`turns_en`, `instruction_en`, a `goal_en` column, `<field>_en`). */
	turnsEn?: string[];
	/** Fields the benchmark's answer format carries back (AlpacaEval `dataset`, AdvBench `target`). */
	extra?: Record<string, unknown>;
	file: string;
	line: number;
}

export interface ReadQuestionsOptions {
	format: QuestionFormat;
	/** JSONL: the field holding the question (default `query`). */
	field?: string;
	/** JSONL: the id field (default `id`; the line number when absent). */
	idField?: string;
	limit?: number;
}

function strings(value: unknown): value is string[] {
	return Array.isArray(value) && value.length > 0 && value.every((turn) => typeof turn === "string");
}

/**
 * Guesses the format from the file name: `.csv` AdvBench, `.json` AlpacaEval, a `.jsonl` named like FastChat's
 * `question.jsonl` or MT-Bench (`mt_bench_th.jsonl`) MT-Bench, any other `.jsonl` plain JSONL.
 */
export function guessQuestionFormat(path: string): QuestionFormat {
	if (/\.csv$/i.test(path)) return "advbench";
	if (/\.json$/i.test(path)) return "alpaca-eval";
	if (/(question|mt[-_]?bench)[^/\\]*\.jsonl$/i.test(path)) return "mt-bench";
	return "jsonl";
}

async function* mtBench(file: string): AsyncGenerator<EvalQuestion> {
	for await (const { value, line } of readJsonl(file, { required: ["question_id", "turns"] })) {
		const raw = JSON.stringify(value);
		if (typeof value.question_id !== "number" && typeof value.question_id !== "string") throw new InputError("question_id must be a number or a string", { file, line, field: "question_id", excerpt: excerpt(raw) });
		if (!strings(value.turns)) throw new InputError("turns must be a non-empty list of strings", { file, line, field: "turns", excerpt: excerpt(raw) });
		if (value.reference !== undefined && !strings(value.reference)) throw new InputError("reference must be a list of strings", { file, line, field: "reference" });
		if (value.turns_en !== undefined && (!strings(value.turns_en) || value.turns_en.length !== value.turns.length)) throw new InputError("turns_en must be a list of strings, one per turn", { file, line, field: "turns_en" });
		yield {
			id: String(value.question_id),
			questionId: value.question_id,
			...(typeof value.category === "string" ? { category: value.category } : {}),
			turns: value.turns,
			...(value.reference !== undefined ? { reference: value.reference as string[] } : {}),
			...(value.turns_en !== undefined ? { turnsEn: value.turns_en as string[] } : {}),
			// A translated set (eval answer --translate) carries the source format's extra fields.
			...(typeof value.extra === "object" && value.extra !== null ? { extra: value.extra as Record<string, unknown> } : {}),
			file,
			line,
		};
	}
}

async function* alpacaEval(file: string): AsyncGenerator<EvalQuestion> {
	let list: unknown;
	try {
		list = JSON.parse(await readFile(file, "utf8"));
	} catch (error) {
		throw new InputError(`not a JSON list of AlpacaEval examples: ${(error as Error).message}`, { file });
	}
	if (!Array.isArray(list)) throw new InputError("AlpacaEval input must be a JSON list of {instruction, …}", { file });
	for (const [index, item] of list.entries()) {
		const example = item as Record<string, unknown>;
		if (typeof example?.instruction !== "string") throw new InputError(`example ${index}: field "instruction" must be a string`, { file, field: `[${index}].instruction` });
		yield {
			id: String(index),
			questionId: index,
			...(typeof example.dataset === "string" ? { category: example.dataset } : {}),
			turns: [example.instruction],
			...(typeof example.instruction_en === "string" ? { turnsEn: [example.instruction_en] } : {}),
			...(example.dataset !== undefined ? { extra: { dataset: example.dataset } } : {}),
			file,
			// A JSON list has no lines to name: the 0-based index stands in (errors name the field).
			line: index,
		};
	}
}

async function* advBench(file: string): AsyncGenerator<EvalQuestion> {
	const rows = parseCsv(await readFile(file, "utf8"), file);
	const header = rows[0]?.fields.map((name) => name.trim());
	const goal = header?.indexOf("goal") ?? -1;
	if (!header || goal < 0) throw new InputError(`AdvBench CSV needs a header with a "goal" column (got ${JSON.stringify(header ?? [])})`, { file, line: 1 });
	const target = header.indexOf("target");
	const goalEn = header.indexOf("goal_en");
	for (const [index, row] of rows.slice(1).entries()) {
		const text = row.fields[goal];
		if (text === undefined || text.trim() === "") throw new InputError(`row ${index + 1} has no goal`, { file, line: row.line, field: "goal" });
		yield {
			id: String(index + 1),
			questionId: index + 1,
			turns: [text],
			...(goalEn >= 0 && row.fields[goalEn] ? { turnsEn: [row.fields[goalEn] as string] } : {}),
			...(target >= 0 && row.fields[target] !== undefined ? { extra: { target: row.fields[target] } } : {}),
			file,
			line: row.line,
		};
	}
}

async function* plainJsonl(file: string, field: string, idField: string): AsyncGenerator<EvalQuestion> {
	for await (const { value, line } of readJsonl(file, { required: [field] })) {
		const text = value[field];
		if (typeof text !== "string") throw new InputError(`field "${field}" must be a string`, { file, line, field });
		const rawId = value[idField];
		const id = typeof rawId === "string" || typeof rawId === "number" ? rawId : line;
		const english = value[`${field}_en`];
		yield {
			id: String(id),
			questionId: id,
			...(typeof value.category === "string" ? { category: value.category } : {}),
			turns: [text],
			...(typeof english === "string" ? { turnsEn: [english] } : {}),
			file,
			line,
		};
	}
}

/** Reads a question set; duplicate ids are an error naming both places. */
export async function* readQuestions(file: string, options: ReadQuestionsOptions): AsyncGenerator<EvalQuestion> {
	const source =
		options.format === "mt-bench"
			? mtBench(file)
			: options.format === "alpaca-eval"
				? alpacaEval(file)
				: options.format === "advbench"
					? advBench(file)
					: options.format === "jsonl"
						? plainJsonl(file, options.field ?? "query", options.idField ?? "id")
						: undefined;
	if (!source) throw new ConfigError(`unknown question format "${String(options.format)}": choose ${QUESTION_FORMATS.join(", ")}`);
	const seen = new Map<string, number>();
	let n = 0;
	for await (const question of source) {
		const first = seen.get(question.id);
		if (first !== undefined) throw new InputError(`duplicate question id "${question.id}" (first at ${first})`, { file, line: question.line });
		seen.set(question.id, question.line);
		yield question;
		if (options.limit !== undefined && ++n >= options.limit) return;
	}
}

/** All questions of a set, in order. */
export async function loadQuestions(file: string, options: ReadQuestionsOptions): Promise<EvalQuestion[]> {
	const all: EvalQuestion[] = [];
	for await (const question of readQuestions(file, options)) all.push(question);
	return all;
}
