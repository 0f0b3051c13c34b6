import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { getLanguage, readJsonl, writeFileAtomic } from "@transllm/core";
import { generationFlags, runOrderedJob } from "@transllm/recovery-kd";
import type { GenerationParams, KdChatMessage } from "@transllm/recovery-kd";
import type { TcotHistoryTurn } from "@transllm/tcot";
import type { AnswerModel } from "./answer-model.js";
import { readQuestions } from "./questions.js";
import type { EvalQuestion, QuestionFormat } from "./questions.js";
import { answerTcotTurn } from "./tcot-turn.js";

/** `tcot`: a TransLLM model answering through the TCOT chain; `plain`: any other model, its answer as given. */
export type AnswerMode = "tcot" | "plain";

/** One answered turn. */
export interface AnswerTurn {
	query: string;
	answer: string;
	finish_reason: string;
	/** TCOT: the English query and answer the model wrote before the target answer. */
	query_en?: string;
	answer_en?: string;
	/** TCOT: how the output parsed, the raw text, the fallback used. */
	tcot?: { mode: string; missing: string[]; irregular: boolean; fallback?: string; raw: string };
	/** `truncated`, `empty`, `tcot_incomplete`, `fallback_unavailable`, `history_substituted`. */
	flags?: string[];
}

/** One line of `eval answer`'s output: a question and the model's answers to its turns. */
export interface AnswerRecord {
	id: string;
	question_id: string | number;
	category?: string;
	model_id: string;
	mode: AnswerMode;
	turns: AnswerTurn[];
	/** English originals of a translated question set. */
	turns_en?: string[];
	reference?: string[];
	extra?: Record<string, unknown>;
	/** Every flag of its turns (the manifest counts and lists them). */
	flags?: string[];
}

/** Greedy decoding (paper App. A.1: "we use greedy search for all experiments"). */
export const DEFAULT_ANSWER_PARAMS: GenerationParams = { temperature: 0, max_tokens: 1024 };

export interface GenerateAnswersOptions {
	questions: string;
	format: QuestionFormat;
	/** The benchmark format of the answers (default `format`; a translated set is read as MT-Bench JSONL but answered in its source format). */
	exportFormat?: QuestionFormat;
	/** JSONL questions: the field holding the question. */
	field?: string;
	/** Output JSONL of AnswerRecords; the benchmark-format file goes beside it (see `benchmarkAnswerPath`). */
	out: string;
	model: AnswerModel;
	/** Name written as `model_id` / `generator` (default: the backend's model name). */
	modelId?: string;
	mode: AnswerMode;
	/** Target language (TCOT: the language-ID token that opens the target answer). */
	lang?: string;
	params?: Partial<GenerationParams>;
	limit?: number;
	resume?: boolean;
	overwrite?: boolean;
	progress?: NodeJS.WritableStream | false;
	signal?: AbortSignal;
}

export interface GenerateAnswersSummary {
	out: string;
	manifest: string;
	/** The answers in the benchmark's own format (FastChat model_answer JSONL, AlpacaEval JSON), when it has one. */
	benchmarkFile?: string;
	records: number;
	generated: number;
	resumed: number;
	rejected: number;
	flagged: Record<string, number>;
	retries: number;
}

function turnFlags(answer: string, finishReason: string, extra: readonly string[] = []): string[] {
	return [...extra, ...generationFlags(answer, finishReason)];
}

async function answerQuestion(question: EvalQuestion, options: GenerateAnswersOptions, modelId: string, params: GenerationParams): Promise<AnswerRecord> {
	const turns: AnswerTurn[] = [];
	if (options.mode === "plain") {
		// The model's own multi-turn format: earlier questions and its answers as they were (FastChat's way).
		const messages: KdChatMessage[] = params.system !== undefined ? [{ role: "system", content: params.system }] : [];
		for (const query of question.turns) {
			messages.push({ role: "user", content: query });
			const result = await options.model.backend.generate(messages, params, options.signal);
			const answer = result.text.trim();
			messages.push({ role: "assistant", content: answer });
			const flags = turnFlags(answer, result.finishReason);
			turns.push({ query, answer, finish_reason: result.finishReason, ...(flags.length ? { flags } : {}) });
		}
	} else {
		const lang = getLanguage(options.lang ?? "th").code;
		const history: TcotHistoryTurn[] = [];
		for (const [index, query] of question.turns.entries()) {
			const result = await answerTcotTurn(options.model, query, history, lang, params, options.signal);
			const flags = turnFlags(result.answer, result.finishReason, result.flags);
			// Sec. 2.3 keeps the English parts as history; a turn that lacks one gets the best stand-in, flagged.
			if (result.queryEn === undefined || result.answerEn === undefined) flags.push("history_substituted");
			history.push({ queryEn: result.queryEn ?? question.turnsEn?.[index] ?? query, responseEn: result.answerEn ?? result.answer });
			turns.push({
				query,
				answer: result.answer,
				finish_reason: result.finishReason,
				...(result.queryEn !== undefined ? { query_en: result.queryEn } : {}),
				...(result.answerEn !== undefined ? { answer_en: result.answerEn } : {}),
				tcot: { mode: result.parse.mode, missing: result.parse.missing, irregular: result.parse.irregular, ...(result.fallback ? { fallback: result.fallback } : {}), raw: result.raw },
				...(flags.length ? { flags } : {}),
			});
		}
	}
	const flags = [...new Set(turns.flatMap((turn) => turn.flags ?? []))];
	return {
		id: question.id,
		question_id: question.questionId,
		...(question.category !== undefined ? { category: question.category } : {}),
		model_id: modelId,
		mode: options.mode,
		turns,
		...(question.turnsEn ? { turns_en: question.turnsEn } : {}),
		...(question.reference ? { reference: question.reference } : {}),
		...(question.extra ? { extra: question.extra } : {}),
		...(flags.length ? { flags } : {}),
	};
}

/** Where the benchmark-format answers go: FastChat's `model_answer/<model>.jsonl` beside `out`, or `<out>.alpaca_eval.json`. */
export function benchmarkAnswerPath(out: string, format: QuestionFormat, modelId: string): string | undefined {
	if (format === "mt-bench") return join(dirname(out), "model_answer", `${modelId}.jsonl`);
	if (format === "alpaca-eval") return `${out.replace(/\.jsonl$/, "")}.alpaca_eval.json`;
	return undefined;
}

/** FastChat's answer_id is a random shortuuid; here a hash of model and question, so reruns are byte-identical. */
export function answerId(modelId: string, questionId: string | number): string {
	return createHash("sha256").update(`${modelId}\u0000${String(questionId)}`).digest("base64url").slice(0, 22);
}

/** Reads an `eval answer` output. */
export async function loadAnswers(path: string): Promise<AnswerRecord[]> {
	const records: AnswerRecord[] = [];
	for await (const { value } of readJsonl<AnswerRecord>(path, { required: ["id", "turns"] })) records.push(value);
	return records;
}

/**
 * Writes the answers in the benchmark's own format, so they compare with published ones: FastChat MT-Bench
 * `{question_id, answer_id, model_id, choices: [{index, turns}]}` lines (without FastChat's wall-clock `tstamp`,
 * which would make reruns differ), or AlpacaEval's JSON list `{instruction, output, generator, dataset?}`.
 */
export async function writeBenchmarkAnswers(records: readonly AnswerRecord[], format: QuestionFormat, path: string): Promise<void> {
	if (format === "mt-bench") {
		const lines = records.map((r) => JSON.stringify({ question_id: r.question_id, answer_id: answerId(r.model_id, r.question_id), model_id: r.model_id, choices: [{ index: 0, turns: r.turns.map((t) => t.answer) }] }));
		await writeFileAtomic(path, lines.length ? `${lines.join("\n")}\n` : "");
		return;
	}
	const list = records.map((r) => ({ instruction: r.turns[0]?.query ?? "", output: r.turns[0]?.answer ?? "", generator: r.model_id, ...(r.extra?.dataset !== undefined ? { dataset: r.extra.dataset } : {}) }));
	await writeFileAtomic(path, `${JSON.stringify(list, null, 2)}\n`);
}

/**
 * `eval answer`: a model's answers to a benchmark's questions, greedily, up to `concurrency` questions at once, in
 * question order. Resumable: a run killed at any moment and restarted with `resume` produces the same bytes as an
 * uninterrupted one (recovery-kd's ordered job: `<out>.partial`, manifest, rejects).
 */
export async function generateAnswers(options: GenerateAnswersOptions): Promise<GenerateAnswersSummary> {
	const backend = options.model.backend;
	const modelId = options.modelId ?? backend.model;
	const params: GenerationParams = { ...DEFAULT_ANSWER_PARAMS, ...(options.mode === "tcot" ? { max_tokens: 2048 } : {}), ...options.params };
	const { produced, ...summary } = await runOrderedJob<EvalQuestion, AnswerRecord>({
		tool: "@transllm/eval",
		step: "answer",
		paper: "TransLLM (../shared/papers/000_1ce36f3811662daf.txt) Sec. 2.3 TCOT inference with English-only history; Sec. 3.1 benchmarks; App. A.1 greedy search",
		input: options.questions,
		out: options.out,
		settings: { backend: backend.kind, location: backend.location, model: modelId, mode: options.mode, lang: options.lang ?? null, format: options.format, params, concurrency: backend.concurrency, limit: options.limit ?? null },
		label: `eval answer (${modelId})`,
		concurrency: backend.concurrency,
		retries: () => backend.retries,
		read: async function* () {
			for await (const question of readQuestions(options.questions, { format: options.format, field: options.field, limit: options.limit })) {
				yield { id: question.id, value: question, file: question.file, line: question.line };
			}
		},
		run: (item) => answerQuestion(item.value, options, modelId, params),
		failure: "answer failed",
		limit: options.limit,
		resume: options.resume,
		overwrite: options.overwrite,
		progress: options.progress,
		signal: options.signal,
	});
	const exportFormat = options.exportFormat ?? options.format;
	const benchmarkFile = benchmarkAnswerPath(options.out, exportFormat, modelId);
	if (benchmarkFile) await writeBenchmarkAnswers(await loadAnswers(options.out), exportFormat, benchmarkFile);
	return { ...summary, ...(benchmarkFile ? { benchmarkFile } : {}), generated: produced };
}
