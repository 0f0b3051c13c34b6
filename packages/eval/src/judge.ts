import { ConfigError, InputError, getLanguage, readJsonl } from "@transllm/core";
import { runOrderedJob } from "@transllm/recovery-kd";
import type { GenerationBackend, TranslationBackend } from "@transllm/recovery-kd";
import { escapeHtml, fixed, htmlTable, pValue } from "./html.js";
import { fillTemplate, judgePromptName, languageNote, loadJudgePrompts } from "./judge-prompts.js";
import type { JudgePrompt } from "./judge-prompts.js";
import { loadModelAnswers } from "./model-answers.js";
import type { ModelAnswers } from "./model-answers.js";
import { readQuestions } from "./questions.js";
import type { EvalQuestion, QuestionFormat } from "./questions.js";
import type { EvalResult } from "./report-section.js";
import { barChartSvg } from "./svg.js";
import { parsePairwiseVerdict, parseRating } from "./verdict.js";
import type { PairwiseVerdict } from "./verdict.js";
import { winTieLoss } from "./win-rate.js";
import type { Outcome, WinTieLoss } from "./win-rate.js";

/**
 * How target-language answers reach the judge: `direct` (in the target language, the prompt says so: App. A.4.2) or
 * `back-translate` (questions and answers translated into English first, English prompts).
 */
export type JudgeLanguage = "direct" | "back-translate";

export interface Judgment<V> {
	verdict: V;
	/** Requests made: 1 + retries after unparsable judgments. */
	attempts: number;
	/** The last judgment's text. */
	judgment: string;
}

/** One judged question turn (a line of `eval judge`'s output). */
export interface JudgeRecord {
	id: string;
	question_id: string | number;
	category?: string;
	turn: number;
	prompt: string;
	model_a: string;
	model_b?: string;
	/** Pairwise: A = model_a (g1), then the positions swapped (g2: A = model_b). */
	g1?: Judgment<PairwiseVerdict>;
	g2?: Judgment<PairwiseVerdict>;
	/** Single: each model's rating. */
	ratings?: Record<string, Judgment<number | null>>;
	/** `model_a`, `model_b`, `tie` or `error` (a verdict unreadable after every retry: left out of the rates, counted). */
	winner?: "model_a" | "model_b" | "tie" | "error";
	/** The two orders disagreed (a tie, as in FastChat). */
	inconsistent?: boolean;
	/** Judgments that could not be parsed (each one retried). */
	unparsable: number;
	tokens: { prompt: number; completion: number };
}

export interface JudgeOptions {
	questions: string;
	format?: QuestionFormat;
	/** Answer files: two for pairwise (A = the model under test, e.g. TransLLM; B = the baseline); one or two for single. */
	answers: string[];
	mode: "pairwise" | "single";
	judge: GenerationBackend;
	/** A FastChat-shaped judge_prompts.jsonl whose prompts replace the built-in ones of the same name. */
	prompts?: string;
	/** The answers' language (default en: no note, nothing to translate). */
	lang?: string;
	judgeLanguage?: JudgeLanguage;
	/** Translates into English for `back-translate`. */
	translator?: TranslationBackend;
	/** Retries of an unparsable judgment (default 3). */
	parseRetries?: number;
	/** The judge's max_tokens (default 2048, FastChat's). */
	maxTokens?: number;
	/** Bootstrap resamples (default 1000) and seed. */
	samples?: number;
	seed?: number;
	/** Output JSONL of JudgeRecords. */
	out: string;
	limit?: number;
	resume?: boolean;
	overwrite?: boolean;
	progress?: NodeJS.WritableStream | false;
	signal?: AbortSignal;
}

export interface JudgeResults {
	mode: "pairwise" | "single";
	models: string[];
	judge: string;
	judgeLanguage: JudgeLanguage;
	lang: string;
	/** Per turn, per category (and `all`): win/tie/loss of model A with Δ and its bootstrap 95% interval. */
	table?: { turn: number; category: string; stats: WinTieLoss }[];
	/** Single: mean rating per model, turn and category. */
	ratings?: { model: string; turn: number; category: string; n: number; mean: number }[];
	/** Verdicts given up on after every retry (left out of the rates). */
	errors: number;
	/** Question turns the judge's server refused on their own (a 4xx such as a prompt too long): in `<out>.rejects.jsonl`, left out. */
	rejected: number;
	/** Judgments that could not be parsed (each retried). */
	unparsable: number;
	/** Pairwise: question turns whose two orders disagreed (counted as ties). */
	inconsistent: number;
	cost: { requests: number; promptTokens: number; completionTokens: number };
}

async function judgeOnce<V>(
	judge: GenerationBackend,
	system: string,
	user: string,
	parse: (text: string) => V | undefined,
	options: { retries: number; maxTokens: number; signal?: AbortSignal },
	tokens: { prompt: number; completion: number },
): Promise<Judgment<V | undefined> & { failures: number }> {
	let failures = 0;
	let text = "";
	for (let attempt = 1; ; attempt++) {
		// Temperature 0, as FastChat's judge.
		const result = await judge.generate([{ role: "system", content: system }, { role: "user", content: user }], { temperature: 0, max_tokens: options.maxTokens }, options.signal);
		tokens.prompt += result.usage?.promptTokens ?? 0;
		tokens.completion += result.usage?.completionTokens ?? 0;
		text = result.text;
		const verdict = parse(text);
		if (verdict !== undefined) return { verdict, attempts: attempt, judgment: text, failures };
		failures += 1;
		if (attempt > options.retries) return { verdict: undefined, attempts: attempt, judgment: text, failures };
	}
}

interface Conversation {
	questions: string[];
	answers: string[][];
	reference?: string[];
}

async function englishConversation(conversation: Conversation, lang: string, translator: TranslationBackend, signal?: AbortSignal): Promise<Conversation> {
	const texts = [...conversation.questions, ...conversation.answers.flat()];
	const outputs = await translator.translate(texts, { source: lang, target: "en", signal });
	const english = outputs.map((o) => o.text);
	let k = conversation.questions.length;
	return {
		questions: english.slice(0, k),
		answers: conversation.answers.map((answers) => {
			const part = english.slice(k, k + answers.length);
			k += answers.length;
			return part;
		}),
		...(conversation.reference ? { reference: conversation.reference } : {}),
	};
}

function slotsFor(conversation: Conversation, turn: number, answerIndex: number[], pairwise: boolean): Record<string, string> {
	const slots: Record<string, string> = {};
	const q = conversation.questions;
	const ref = conversation.reference ?? [];
	slots.question = q[turn - 1] ?? "";
	q.forEach((text, i) => (slots[`question_${i + 1}`] = text));
	ref.forEach((text, i) => (slots[`ref_answer_${i + 1}`] = text));
	const names = pairwise ? ["a", "b"] : [""];
	answerIndex.forEach((model, position) => {
		const answers = conversation.answers[model] ?? [];
		const name = names[position] as string;
		slots[name ? `answer_${name}` : "answer"] = answers[turn - 1] ?? "";
		answers.forEach((text, i) => (slots[name ? `answer_${name}_${i + 1}` : `answer_${i + 1}`] = text));
	});
	return slots;
}

/**
 * `eval judge`: LLM-as-a-judge in FastChat's MT-Bench way (Zheng et al. 2024; paper Sec. 3.1 and App. A.4.2,
 * Tables 1 and 4). Pairwise: every question turn is judged twice with the answers' positions swapped; the winner
 * stands when both orders agree, otherwise it is a tie; `[[A]]`/`[[B]]`/`[[C]]` are parsed, and an unparsable judgment
 * is retried and counted, never read as a tie. Single: a 1–10 rating per answer, and with two models, win/tie/loss
 * from comparing the ratings (how the paper derives its win rates from 1–10 scores: Sec. 3.1). Math, reasoning and
 * coding questions carry the reference answer; the second turn is judged with the two-turn prompts.
 */
export async function judgeAnswers(options: JudgeOptions): Promise<EvalResult<JudgeResults>> {
	const pairwise = options.mode === "pairwise";
	if (pairwise && options.answers.length !== 2) throw new ConfigError("pairwise judging needs two answer files (--answers A --answers B)");
	if (!pairwise && (options.answers.length < 1 || options.answers.length > 2)) throw new ConfigError("single grading takes one or two answer files");
	const lang = getLanguage(options.lang ?? "en").code;
	const judgeLanguage = options.judgeLanguage ?? "direct";
	if (judgeLanguage === "back-translate" && lang !== "en" && !options.translator) throw new ConfigError("--judge-language back-translate needs a translator (--translator-endpoint …)");
	const prompts = await loadJudgePrompts(options.prompts);
	const models: ModelAnswers[] = await Promise.all(options.answers.map((path) => loadModelAnswers(path)));
	if (models.length === 2 && models[0]?.model === models[1]?.model) throw new ConfigError(`both answer files are from ${models[0]?.model}: judge two different models`);
	const note = judgeLanguage === "direct" && lang !== "en" ? languageNote(getLanguage(lang).englishName) : "";
	const retries = options.parseRetries ?? 3;
	const maxTokens = options.maxTokens ?? 2048;
	const prompt = (name: string): JudgePrompt => {
		const found = prompts.get(name);
		if (!found) throw new ConfigError(`no judge prompt named "${name}" (built-in or in --judge-prompts)`);
		return found;
	};
	const judge = options.judge;
	const job = await runOrderedJob<{ question: EvalQuestion; turn: number }, JudgeRecord>({
		tool: "@transllm/eval",
		step: "judge",
		paper: "TransLLM (../shared/papers/000_1ce36f3811662daf.txt) Sec. 3.1 and App. A.4.2 LLM-as-a-judge (Zheng et al. 2024); Tables 1, 4",
		input: options.questions,
		out: options.out,
		settings: { mode: options.mode, models: models.map((m) => m.model), judge: judge.model, location: judge.location, lang, judgeLanguage, prompts: options.prompts ?? "built-in", parseRetries: retries, maxTokens, limit: options.limit ?? null },
		label: `eval judge (${judge.model})`,
		concurrency: judge.concurrency,
		retries: () => judge.retries,
		read: async function* () {
			for await (const question of readQuestions(options.questions, { format: options.format ?? "mt-bench", limit: options.limit })) {
				for (const model of models) {
					if (!model.byQuestion.has(question.id)) throw new InputError(`${model.model} has no answer to question ${question.id}`, { file: question.file, line: question.line });
				}
				for (let turn = 1; turn <= question.turns.length; turn++) yield { id: `${question.id}:${turn}`, value: { question, turn }, file: question.file, line: question.line };
			}
		},
		run: async ({ id, value: { question, turn } }) => {
			let conversation: Conversation = { questions: question.turns.slice(0, turn), answers: models.map((m) => (m.byQuestion.get(question.id) ?? []).slice(0, turn)), ...(question.reference ? { reference: question.reference } : {}) };
			if (judgeLanguage === "back-translate" && lang !== "en" && options.translator) conversation = await englishConversation(conversation, lang, options.translator, options.signal);
			const name = judgePromptName(options.mode, question.category, turn);
			const template = prompt(name);
			const tokens = { prompt: 0, completion: 0 };
			const base = { id, question_id: question.questionId, ...(question.category !== undefined ? { category: question.category } : {}), turn, prompt: name, model_a: models[0]?.model as string, ...(models[1] ? { model_b: models[1].model } : {}) };
			const ask = <V>(slots: Record<string, string>, parse: (text: string) => V | undefined) =>
				judgeOnce(judge, template.system_prompt + note, fillTemplate(template.prompt_template, slots, name), parse, { retries, maxTokens, signal: options.signal }, tokens);
			if (pairwise) {
				const parse = (text: string): PairwiseVerdict | undefined => {
					const verdict = parsePairwiseVerdict(text);
					return verdict === "error" ? undefined : verdict;
				};
				const [g1, g2] = await Promise.all([ask(slotsFor(conversation, turn, [0, 1], true), parse), ask(slotsFor(conversation, turn, [1, 0], true), parse)]);
				// g1's A is model_a; g2's A is model_b.
				const first = g1.verdict === "A" ? "model_a" : g1.verdict === "B" ? "model_b" : g1.verdict === "tie" ? "tie" : "error";
				const second = g2.verdict === "A" ? "model_b" : g2.verdict === "B" ? "model_a" : g2.verdict === "tie" ? "tie" : "error";
				const winner = first === "error" || second === "error" ? "error" : first === second ? first : "tie";
				return {
					...base,
					g1: { verdict: g1.verdict ?? "error", attempts: g1.attempts, judgment: g1.judgment },
					g2: { verdict: g2.verdict ?? "error", attempts: g2.attempts, judgment: g2.judgment },
					winner,
					...(winner === "tie" && first !== second ? { inconsistent: true } : {}),
					unparsable: g1.failures + g2.failures,
					tokens,
				};
			}
			const graded = await Promise.all(models.map((_, index) => ask(slotsFor(conversation, turn, [index], false), parseRating)));
			const ratings: Record<string, Judgment<number | null>> = {};
			models.forEach((model, index) => {
				const g = graded[index] as Judgment<number | undefined>;
				ratings[model.model] = { verdict: g.verdict ?? null, attempts: g.attempts, judgment: g.judgment };
			});
			const [a, b] = graded.map((g) => g.verdict);
			const winner = models.length < 2 ? undefined : a === undefined || b === undefined ? "error" : a > b ? "model_a" : a < b ? "model_b" : "tie";
			return { ...base, ratings, ...(winner ? { winner } : {}), unparsable: graded.reduce((s, g) => s + g.failures, 0), tokens };
		},
		failure: "judging failed",
		limit: undefined,
		resume: options.resume,
		overwrite: options.overwrite,
		progress: options.progress,
		signal: options.signal,
	});
	const records: JudgeRecord[] = [];
	for await (const { value } of readJsonl<JudgeRecord>(options.out)) records.push(value);
	return summariseJudgments(records, { rejected: job.rejected, mode: options.mode, models: models.map((m) => m.model), judge: judge.model, judgeLanguage, lang, samples: options.samples, seed: options.seed });
}

/** The results and report section of judged records (Table 1's shape: per turn, win / tie / loss / Δ per category). */
export function summariseJudgments(records: readonly JudgeRecord[], meta: { rejected?: number; mode: "pairwise" | "single"; models: string[]; judge: string; judgeLanguage: JudgeLanguage; lang: string; samples?: number; seed?: number }): EvalResult<JudgeResults> {
	const turns = [...new Set(records.map((r) => r.turn))].sort((a, b) => a - b);
	const categories = ["all", ...[...new Set(records.map((r) => r.category ?? "general"))].sort()];
	const inCategory = (r: JudgeRecord, category: string): boolean => category === "all" || (r.category ?? "general") === category;
	const results: JudgeResults = {
		mode: meta.mode,
		models: meta.models,
		judge: meta.judge,
		judgeLanguage: meta.judgeLanguage,
		lang: meta.lang,
		rejected: meta.rejected ?? 0,
		errors: records.filter((r) => r.winner === "error" || Object.values(r.ratings ?? {}).some((g) => g.verdict === null)).length,
		unparsable: records.reduce((s, r) => s + r.unparsable, 0),
		inconsistent: records.filter((r) => r.inconsistent).length,
		cost: {
			requests: records.reduce((s, r) => s + (r.g1?.attempts ?? 0) + (r.g2?.attempts ?? 0) + Object.values(r.ratings ?? {}).reduce((t, g) => t + g.attempts, 0), 0),
			promptTokens: records.reduce((s, r) => s + r.tokens.prompt, 0),
			completionTokens: records.reduce((s, r) => s + r.tokens.completion, 0),
		},
	};
	if (meta.models.length === 2) {
		results.table = turns.flatMap((turn) =>
			categories.map((category) => {
				const outcomes = records
					.filter((r) => r.turn === turn && inCategory(r, category) && r.winner !== undefined && r.winner !== "error")
					.map((r): Outcome => (r.winner === "model_a" ? 1 : r.winner === "model_b" ? -1 : 0));
				return { turn, category, stats: winTieLoss(outcomes, { samples: meta.samples, seed: `${meta.seed ?? 0}:${turn}:${category}` }) };
			}),
		);
	}
	if (meta.mode === "single") {
		results.ratings = meta.models.flatMap((model) =>
			turns.flatMap((turn) =>
				categories.map((category) => {
					const values = records.filter((r) => r.turn === turn && inCategory(r, category)).map((r) => r.ratings?.[model]?.verdict).filter((v): v is number => typeof v === "number");
					return { model, turn, category, n: values.length, mean: values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0 };
				}),
			),
		);
	}
	const turnName = (turn: number): string => (turn === 1 ? "First turn" : turn === 2 ? "Second turn" : `Turn ${turn}`);
	const parts: string[] = [];
	const [a, b] = meta.models;
	if (results.table) {
		const header = ["Category", ...turns.flatMap((t) => [`${turnName(t)} Win`, "Tie", "Loss", "Δ", "95% CI", "p"])];
		const rows = categories.map((category) => [
			category,
			...turns.flatMap((turn) => {
				const s = results.table?.find((x) => x.turn === turn && x.category === category)?.stats as WinTieLoss;
				// Δ marked * where the binomial test finds the win rate different from 0.5 (p < 0.05), as the paper bolds it.
				return [fixed(s.win), fixed(s.tie), fixed(s.loss), `${fixed(s.delta)}${s.significant ? "*" : ""}`, `[${fixed(s.low)}, ${fixed(s.high)}]`, pValue(s.p)];
			}),
		]);
		parts.push(htmlTable(header, rows, `${a} vs. ${b} (%), judged by ${meta.judge}${meta.mode === "single" ? " from 1–10 ratings" : ", both orders"}: shaped like Tables 1 and 4; * p < 0.05 by the two-sided binomial test of wins vs. losses (App. C.1)`));
		for (const turn of turns) {
			parts.push(barChartSvg(categories.map((category) => {
				const s = results.table?.find((x) => x.turn === turn && x.category === category)?.stats as WinTieLoss;
				return { label: category, value: s.delta, low: s.low, high: s.high };
			}), { title: `Δ = win − loss of ${a} vs. ${b}, ${turnName(turn).toLowerCase()} (bootstrap 95% CI)` }));
		}
	}
	if (results.ratings) {
		parts.push(htmlTable(["Model", "Turn", "Category", "Answers", "Mean rating"], results.ratings.map((r) => [r.model, r.turn, r.category, r.n, fixed(r.mean)]), "Single-answer ratings (1–10)"));
	}
	parts.push(`<p>Judge ${escapeHtml(meta.judge)} (${meta.judgeLanguage === "direct" ? `answers in ${escapeHtml(getLanguage(meta.lang).englishName)}` : "answers back-translated into English"}): ${results.cost.requests} requests, ${results.cost.promptTokens} prompt + ${results.cost.completionTokens} completion tokens; ${results.unparsable} unparsable judgments (retried), ${results.errors} verdicts given up on (left out), ${results.inconsistent} order-inconsistent pairs (ties)${results.rejected ? `; ${results.rejected} question turns refused by the judge's server (see the rejects file)` : ""}.</p>`);
	return {
		tool: "@transllm/eval",
		kind: meta.mode === "single" ? "single" : "judge",
		paper: "TransLLM Tables 1 and 4 (MT-Bench win/tie/loss, Δ); App. A.4.2",
		results,
		section: { title: `Judged comparison: ${meta.models.join(" vs. ")}`, html: parts.join("\n") },
	};
}
