import { getLanguage } from "@transllm/core";
import { runOrderedJob, translateKdPair } from "@transllm/recovery-kd";
import type { TranslationBackend } from "@transllm/recovery-kd";
import { readQuestions } from "./questions.js";
import type { EvalQuestion, QuestionFormat } from "./questions.js";

/** A translated question: MT-Bench's shape whatever the source format, with the English original kept. */
export interface TranslatedQuestion {
	id: string;
	question_id: string | number;
	category?: string;
	turns: string[];
	turns_en: string[];
	reference?: string[];
	extra?: Record<string, unknown>;
	/** recovery-kd's translation flags (`mask_fallback`, `lang_mismatch_query` …). */
	flags?: string[];
}

/**
 * `eval answer --translate <lang>`: translates an English question set into the target language through
 * @transllm/recovery-kd's translation backends and its do-not-translate masking (code, URLs, formulas stay as they
 * are), keeping the English original beside each turn (`turns_en`). Reference answers stay English: the judge reads
 * them. The paper used professional translators for MT-Bench and AlpacaEval and Google Translate for AdvBench
 * (Sec. 3.1); this is the machine-translation route. Resumable like every eval step.
 */
export async function translateQuestions(options: { questions: string; format: QuestionFormat; field?: string; lang: string; backend: TranslationBackend; out: string; limit?: number; resume?: boolean; overwrite?: boolean; progress?: NodeJS.WritableStream | false; signal?: AbortSignal }): Promise<{ out: string; records: number }> {
	const lang = getLanguage(options.lang).code;
	const { backend } = options;
	const summary = await runOrderedJob<EvalQuestion, TranslatedQuestion>({
		tool: "@transllm/eval",
		step: "translate-questions",
		paper: "TransLLM (../shared/papers/000_1ce36f3811662daf.txt) Sec. 3.1: target-language versions of MT-Bench, AlpacaEval and AdvBench",
		input: options.questions,
		out: options.out,
		settings: { backend: backend.kind, location: backend.location, model: backend.model ?? null, lang, format: options.format, limit: options.limit ?? null },
		label: `translate questions → ${lang}`,
		concurrency: backend.concurrency,
		retries: () => backend.retries,
		read: async function* () {
			for await (const question of readQuestions(options.questions, { format: options.format, field: options.field, limit: options.limit })) yield { id: question.id, value: question, file: question.file, line: question.line };
		},
		run: async ({ id, value }) => {
			const flags = new Set<string>();
			const turns: string[] = [];
			for (const [index, turn] of value.turns.entries()) {
				const translated = await translateKdPair({ id: `${id}:${index}`, query_en: turn, response_en: "" }, backend, lang, { signal: options.signal });
				for (const flag of translated.flags ?? []) flags.add(flag);
				turns.push(translated.query_t);
			}
			return {
				id,
				question_id: value.questionId,
				...(value.category !== undefined ? { category: value.category } : {}),
				turns,
				turns_en: value.turns,
				...(value.reference ? { reference: value.reference } : {}),
				...(value.extra ? { extra: value.extra } : {}),
				...(flags.size ? { flags: [...flags] } : {}),
			};
		},
		failure: "question translation failed",
		limit: options.limit,
		resume: options.resume,
		overwrite: options.overwrite,
		progress: options.progress,
		signal: options.signal,
	});
	return { out: options.out, records: summary.records };
}
