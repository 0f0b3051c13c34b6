import { ConfigError, InputError, choiceOption, fileListOption, getLanguage, numberOption, optionalString, readJsonFile, stringOption } from "@transllm/core";
import type { CliContext, CliValues, CommandTable } from "@transllm/core";
import {
	GOOGLE_TRANSLATE_V2_ENDPOINT,
	OPENAI_KEY_DEFAULTS,
	createChatTranslationBackend,
	createGoogleTranslateBackend,
	createOpenAiGenerationBackend,
	endpointKeyFromFlags,
	executionProviderFromFlags,
	googleKeyFromFlags,
	keyOptions,
	interruptSignal,
	jobOptions,
	localBackendFromFlags,
	oneOfFlags,
	remoteBackendFromFlags,
	retryOptions,
} from "@transllm/recovery-kd";
import type { GenerationBackend, TranslationBackend } from "@transllm/recovery-kd";
import { localAnswerModel, remoteAnswerModel } from "./answer-model.js";
import type { AnswerModel } from "./answer-model.js";
import { generateAnswers, loadAnswers } from "./answers.js";
import { summariseAnswers } from "./answer-summary.js";
import type { AnswerMode } from "./answers.js";
import { BLEU_TOKENIZERS } from "./bleu-tokenizers.js";
import type { BleuTokenizerName } from "./bleu-tokenizers.js";
import { measureForgetting } from "./forgetting.js";
import { judgeAnswers } from "./judge.js";
import type { JudgeLanguage } from "./judge.js";
import { writeReport } from "./report-page.js";
import { evaluateSafety } from "./safety.js";
import type { SafetyResults } from "./safety.js";
import { translateQuestions } from "./translate-questions.js";
import { languageFidelity } from "./language-fidelity.js";
import { QUESTION_FORMATS, guessQuestionFormat } from "./questions.js";
import type { QuestionFormat } from "./questions.js";
import { writeEvalResult } from "./report-section.js";
import type { EvalResult } from "./report-section.js";
import { evaluateTranslation } from "./translation-eval.js";

/** The answering model of `eval answer` from --model or --endpoint/--model-name (keys from the environment). */
async function answerModelFromFlags(values: CliValues, context: CliContext): Promise<AnswerModel> {
	const which = oneOfFlags(values, ["model", "endpoint"]);
	if (which === "model") {
		return localAnswerModel(stringOption(values, "model"), {
			modelName: optionalString(values, "model-name"),
			batchSize: numberOption(values, "batch-size", 8, { min: 1, integer: true }),
			executionProvider: executionProviderFromFlags(values),
		});
	}
	const modelName = optionalString(values, "model-name");
	if (!modelName) throw new ConfigError("--endpoint needs --model-name (the name the server knows the model by)");
	const endpoint = stringOption(values, "endpoint");
	return remoteAnswerModel({
		endpoint,
		model: modelName,
		apiKey: endpointKeyFromFlags(values, endpoint, OPENAI_KEY_DEFAULTS, context),
		concurrency: numberOption(values, "concurrency", 8, { min: 1, integer: true }),
		timeoutMs: numberOption(values, "timeout", 300, { min: 0.001 }) * 1000,
		retry: { retries: numberOption(values, "retries", 6, { min: 0, integer: true }) },
		...(optionalString(values, "chat-template") !== undefined ? { chatTemplate: optionalString(values, "chat-template") } : {}),
	});
}

async function writeResult(context: CliContext, out: string, result: EvalResult<unknown>, summary: Record<string, unknown>): Promise<void> {
	await writeEvalResult(out, result);
	context.stdout.write(`${JSON.stringify({ ...summary, result: out }, null, 2)}\n`);
}

// --on-bad-record does not apply: a bad question or answer line stops the run naming file:line.
const { resume, force, quiet } = jobOptions;
const evalJobOptions = { resume, force, quiet } as const;

/** A judge or translator endpoint from --<endpointFlag>/--<modelFlag>, with the shared retry flags. */
function endpointBackend(values: CliValues, endpointFlag: string, modelFlag: string, context: CliContext): GenerationBackend {
	const model = optionalString(values, modelFlag);
	if (!model) throw new ConfigError(`--${endpointFlag} needs --${modelFlag}`);
	const endpoint = stringOption(values, endpointFlag);
	return createOpenAiGenerationBackend({
		endpoint,
		model,
		// recovery-kd's key rule: default keys go only to their own service or this machine, else --api-key-env.
		apiKey: endpointKeyFromFlags(values, endpoint, OPENAI_KEY_DEFAULTS, context),
		concurrency: numberOption(values, "concurrency", 8, { min: 1, integer: true }),
		timeoutMs: numberOption(values, "timeout", 300, { min: 0.001 }) * 1000,
		retry: { retries: numberOption(values, "retries", 6, { min: 0, integer: true }) },
	});
}

const translatorOptions = {
	"translator-endpoint": { type: "string", valueName: "<url>", description: "OpenAI-compatible endpoint of the translating model (default: the judge for judge/safety, the answering model for answer --translate)" },
	"translator-model": { type: "string", valueName: "<name>", description: "Its model name" },
	google: { type: "boolean", description: "Translate with Google Cloud Translation v2 (as Yong et al. and the paper did); key from --api-key-env, else GOOGLE_TRANSLATE_API_KEY or GOOGLE_API_KEY (translation.googleapis.com only)" },
	"google-endpoint": { type: "string", valueName: "<url>", description: "Translation v2 endpoint", default: GOOGLE_TRANSLATE_V2_ENDPOINT },
} as const;

/** The back-translation engine: Google v2, a translator endpoint, or the judge itself through recovery-kd's translation prompt. */
function translatorFromFlags(values: CliValues, fallback: GenerationBackend | undefined, context: CliContext): TranslationBackend {
	if (values.google === true) {
		return createGoogleTranslateBackend({
			apiKey: googleKeyFromFlags(values, context),
			endpoint: optionalString(values, "google-endpoint"),
			concurrency: numberOption(values, "concurrency", 8, { min: 1, integer: true }),
			timeoutMs: numberOption(values, "timeout", 300, { min: 0.001 }) * 1000,
			retry: { retries: numberOption(values, "retries", 6, { min: 0, integer: true }) },
		});
	}
	const generator = values["translator-endpoint"] !== undefined ? endpointBackend(values, "translator-endpoint", "translator-model", context) : fallback;
	if (!generator) throw new ConfigError("translating into English needs --translator-endpoint/--translator-model, --google or a judge endpoint");
	return createChatTranslationBackend({ generator });
}

const modelOptions = {
	model: { type: "string", valueName: "<dir>", description: "Local model directory (ONNX, loaded with @transllm/runtime; its chat template applies)" },
	endpoint: { type: "string", valueName: "<url>", description: "OpenAI-compatible API base URL (vLLM, TGI, llama.cpp, Ollama, transllm serve, a hosted model); key from --api-key-env, else TRANSLLM_API_KEY (this machine only) or OPENAI_API_KEY (api.openai.com or this machine)" },
	"model-name": { type: "string", valueName: "<name>", description: "Model name at --endpoint (required with it); with --model, the name written as model_id" },
	concurrency: { type: "string", valueName: "<n>", description: "Requests in flight at once (remote)", default: "8" },
	"batch-size": { type: "string", valueName: "<n>", description: "Prompts per forward pass (local)", default: "8" },
	"execution-provider": { type: "string", valueName: "<auto|cpu|cuda>", description: "onnxruntime execution provider (local)", default: "auto" },
	...retryOptions,
	...keyOptions,
} as const;

/** `transllm eval …`: TransLLM's evaluation (paper Sec. 3–4, Tables 1–4, 8, 9). */
export const evalCommands: CommandTable = {
	answer: {
		description: "Answer a benchmark's questions (MT-Bench, AlpacaEval, AdvBench, JSONL) with a TCOT or plain model, in the benchmark's answer format",
		options: {
			questions: { type: "string", valueName: "<file>", required: true, description: "Question set: FastChat question.jsonl, AlpacaEval JSON, AdvBench CSV (goal,target) or JSONL" },
			format: { type: "string", valueName: `<${QUESTION_FORMATS.join("|")}>`, description: "Question format (default: from the file name: .csv advbench, .json alpaca-eval, question.jsonl mt-bench, else jsonl)" },
			field: { type: "string", valueName: "<name>", description: "JSONL: the field holding the question", default: "query" },
			out: { type: "string", valueName: "<file>", required: true, description: "Output JSONL of answer records (English TCOT parts included); MT-Bench answers also go to model_answer/<model>.jsonl beside it, AlpacaEval's to <out>.alpaca_eval.json; the run's summary for the report to <out>.result.json" },
			mode: { type: "string", valueName: "<tcot|plain>", description: "tcot: a TransLLM model (English-only history, TCOT parsing with fallback); plain: a baseline's answer as given", default: "plain" },
			lang: { type: "string", valueName: "<code>", description: "Target language (tcot: whose language-ID token opens the answer)", default: "th" },
			"model-id": { type: "string", valueName: "<name>", description: "model_id / generator written into the answers (default: the model's name)" },
			translate: { type: "boolean", description: "The questions are English: translate them into --lang first (recovery-kd's translation with do-not-translate masking; English kept as turns_en) into <out>.questions.<lang>.jsonl, then answer those" },
			...translatorOptions,
			"chat-template": { type: "string", valueName: "<family|file>", description: "The endpoint model's chat template (llama-2, llama-3, chatml, mistral, gemma, a tokenizer_config.json or a Jinja file): lets the TCOT fallback continue through /v1/completions" },
			"max-tokens": { type: "string", valueName: "<n>", description: "Most new tokens per turn (default 1024 plain, 2048 tcot)" },
			temperature: { type: "string", valueName: "<t>", description: "Sampling temperature; 0 is greedy, as in the paper (App. A.1)", default: "0" },
			system: { type: "string", valueName: "<text>", description: "System prompt (none by default)" },
			limit: { type: "string", valueName: "<n>", description: "Only the first n questions" },
			...modelOptions,
			...evalJobOptions,
		},
		details:
			"Examples:\n  transllm eval answer --questions mt_bench_th/question.jsonl --model ./transllm-th-onnx --mode tcot --lang th --out mt_bench_th/answers/transllm.jsonl\n  transllm eval answer --questions alpaca_eval_th.json --endpoint http://127.0.0.1:8000/v1 --model-name gpt-4 --out alpaca/gpt-4.jsonl --resume",
		async run({ values }, context) {
			const questions = stringOption(values, "questions");
			const format = choiceOption<QuestionFormat>(values, "format", QUESTION_FORMATS, guessQuestionFormat(questions));
			const mode = choiceOption<AnswerMode>(values, "mode", ["tcot", "plain"], "plain");
			const lang = getLanguage(optionalString(values, "lang") ?? "th").code;
			const out = stringOption(values, "out");
			const model = await answerModelFromFlags(values, context);
			const interrupt = interruptSignal();
			try {
				let source = questions;
				if (values.translate === true) {
					// The translator: --google, --translator-endpoint, or the answering model itself.
					const translator = translatorFromFlags(values, model.backend, context);
					source = `${out.replace(/\.jsonl$/, "")}.questions.${lang}.jsonl`;
					await translateQuestions({ questions, format, field: optionalString(values, "field"), lang, backend: translator, out: source, limit: values.limit !== undefined ? numberOption(values, "limit", 0, { min: 1, integer: true }) : undefined, resume: values.resume === true, overwrite: values.force === true, progress: values.quiet === true ? false : context.stderr, signal: interrupt.signal });
				}
				const summary = await generateAnswers({
					questions: source,
					format: source === questions ? format : "mt-bench",
					exportFormat: format,
					field: optionalString(values, "field"),
					out,
					model,
					modelId: optionalString(values, "model-id") ?? optionalString(values, "model-name"),
					mode,
					lang,
					params: {
						temperature: numberOption(values, "temperature", 0, { min: 0, max: 2 }),
						...(values["max-tokens"] !== undefined ? { max_tokens: numberOption(values, "max-tokens", 1024, { min: 1, integer: true }) } : {}),
						...(values.system !== undefined ? { system: stringOption(values, "system") } : {}),
					},
					limit: values.limit !== undefined ? numberOption(values, "limit", 0, { min: 1, integer: true }) : undefined,
					resume: values.resume === true,
					overwrite: values.force === true,
					progress: values.quiet === true ? false : context.stderr,
					signal: interrupt.signal,
				});
				// The run's summary for the report (TCOT completeness, flags) beside the answers.
				const result = `${out.replace(/\.jsonl$/, "")}.result.json`;
				await writeEvalResult(result, summariseAnswers(await loadAnswers(out)));
				context.stdout.write(`${JSON.stringify({ ...summary, result }, null, 2)}\n`);
			} finally {
				interrupt.dispose();
				await model.close();
			}
		},
	},
	language: {
		description: "Share of answers in the expected language (core's language ID); wrong-language answers listed",
		options: {
			answers: { type: "string", valueName: "<file>", required: true, description: "Answers: eval answer JSONL, FastChat model_answer JSONL or AlpacaEval JSON" },
			lang: { type: "string", valueName: "<code>", required: true, description: "Expected language (th, ar, pt, te, tr …)" },
			out: { type: "string", valueName: "<file>", required: true, description: "Result JSON (numbers, wrong answers, report section)" },
		},
		async run({ values }, context) {
			const result = await languageFidelity({ answers: stringOption(values, "answers"), lang: stringOption(values, "lang") });
			const { wrong, ...numbers } = result.results;
			await writeResult(context, stringOption(values, "out"), result, { ...numbers, wrong: wrong.length });
		},
	},
	forgetting: {
		description: "Forgetting (Table 8): per-token P(y|x) of held-out recovery-KD answers before and after transfer, mean |ΔP|, histogram",
		options: {
			before: { type: "string", valueName: "<dir>", required: true, description: "The original chat model (local ONNX directory)" },
			after: { type: "string", valueName: "<dir>", required: true, description: "The transferred model (local ONNX directory)" },
			data: { type: "string", valueName: "<file>", required: true, description: "Held-out recovery-KD pairs, JSONL {id, query_en, response_en} (kd generate output)" },
			out: { type: "string", valueName: "<file>", required: true, description: "Result JSON; per-example JSONL at <out>.examples.jsonl (and .before/.after score files)" },
			"before-prefix": { type: "string", valueName: "<text>", description: "Text conditioned on (not scored) before the answer under --before" },
			"after-prefix": { type: "string", valueName: "<text>", description: "Text conditioned on before the answer under --after (a TransLLM model: \"<RESPONSE>\", its recovery-KD label prefix)" },
			"batch-size": { type: "string", valueName: "<n>", description: "Pairs per scoring run", default: "8" },
			bins: { type: "string", valueName: "<n>", description: "Histogram bins", default: "30" },
			limit: { type: "string", valueName: "<n>", description: "Only the first n pairs" },
			"execution-provider": { type: "string", valueName: "<auto|cpu|cuda>", description: "onnxruntime execution provider", default: "auto" },
			resume: { type: "boolean", description: "Continue interrupted scoring where it stopped (same bytes as an uninterrupted run)" },
			quiet: { type: "boolean", description: "No progress output" },
		},
		async run({ values }, context) {
			const out = stringOption(values, "out");
			const result = await measureForgetting({
				before: stringOption(values, "before"),
				after: stringOption(values, "after"),
				data: stringOption(values, "data"),
				out: `${out.replace(/\.json$/, "")}.examples.jsonl`,
				beforePrefix: optionalString(values, "before-prefix"),
				afterPrefix: optionalString(values, "after-prefix"),
				batchSize: numberOption(values, "batch-size", 8, { min: 1, integer: true }),
				bins: numberOption(values, "bins", 30, { min: 1, integer: true }),
				limit: values.limit !== undefined ? numberOption(values, "limit", 0, { min: 1, integer: true }) : undefined,
				resume: values.resume === true,
				executionProvider: executionProviderFromFlags(values),
				progress: values.quiet === true ? false : context.stderr,
			});
			await writeResult(context, out, result, result.results as unknown as Record<string, unknown>);
		},
	},
	translate: {
		description: "Translation quality (Table 9): translate a parallel test set both ways, BLEU and chrF++ exactly as sacreBLEU computes them",
		options: {
			data: { type: "string", valueName: "<file>", description: "Parallel JSONL {id?, <source>: text, <target>: text}" },
			"source-file": { type: "string", valueName: "<file>", description: "Flores-style source-language file, one sentence per line (with --target-file)" },
			"target-file": { type: "string", valueName: "<file>", description: "Flores-style target-language file, aligned with --source-file" },
			source: { type: "string", valueName: "<code>", description: "Source language", default: "en" },
			target: { type: "string", valueName: "<code>", required: true, description: "Target language (th …)" },
			direction: { type: "string", valueName: "<both|forward|backward>", description: "forward: source→target; backward: target→source", default: "both" },
			prompt: { type: "string", valueName: "<tcot|chat>", description: "tcot: TransLLM's translation instruction, answer `<β> text`; chat: recovery-kd's chat translation prompt", default: "tcot" },
			tokenize: { type: "string", valueName: `<${BLEU_TOKENIZERS.join("|")}>`, description: "BLEU tokenizer for English targets (the paper's signature: 13a)", default: "13a" },
			"tokenize-target": { type: "string", valueName: `<${BLEU_TOKENIZERS.join("|")}>`, description: "BLEU tokenizer for the non-English target (13a by default, as the paper's signature; char for character BLEU on Thai)", default: "13a" },
			out: { type: "string", valueName: "<file>", required: true, description: "Result JSON; translations at <out>.translations.jsonl and plain .hyp.txt/.ref.txt files per direction" },
			"max-tokens": { type: "string", valueName: "<n>", description: "Most new tokens per translation", default: "512" },
			limit: { type: "string", valueName: "<n>", description: "Only the first n sentences" },
			...modelOptions,
			...evalJobOptions,
		},
		async run({ values }, context) {
			const which = oneOfFlags(values, ["model", "endpoint"]);
			const generator = which === "model" ? await localBackendFromFlags(values) : remoteBackendFromFlags(values, 8, context);
			const prompt = choiceOption(values, "prompt", ["tcot", "chat"] as const, "tcot");
			const direction = choiceOption(values, "direction", ["both", "forward", "backward"] as const, "both");
			const source = getLanguage(optionalString(values, "source") ?? "en").code;
			const target = getLanguage(stringOption(values, "target")).code;
			const out = stringOption(values, "out");
			const interrupt = interruptSignal();
			try {
				const result = await evaluateTranslation({
					data: optionalString(values, "data"),
					sourceFile: optionalString(values, "source-file"),
					targetFile: optionalString(values, "target-file"),
					source,
					target,
					directions: direction === "both" ? ["forward", "backward"] : [direction],
					...(prompt === "tcot" ? { generator } : { translator: createChatTranslationBackend({ generator, maxTokens: numberOption(values, "max-tokens", 512, { min: 1, integer: true }) }) }),
					prompt,
					tokenize: {
						[source]: choiceOption<BleuTokenizerName>(values, source === "en" ? "tokenize" : "tokenize-target", BLEU_TOKENIZERS, "13a"),
						[target]: choiceOption<BleuTokenizerName>(values, target === "en" ? "tokenize" : "tokenize-target", BLEU_TOKENIZERS, "13a"),
					},
					out: `${out.replace(/\.json$/, "")}.translations.jsonl`,
					maxTokens: numberOption(values, "max-tokens", 512, { min: 1, integer: true }),
					limit: values.limit !== undefined ? numberOption(values, "limit", 0, { min: 1, integer: true }) : undefined,
					resume: values.resume === true,
					overwrite: values.force === true,
					progress: values.quiet === true ? false : context.stderr,
					signal: interrupt.signal,
				});
				await writeResult(context, out, result, { directions: result.results.directions.map((d) => ({ direction: d.direction, bleu: d.bleu, chrf: d.chrf, bleuSignature: d.bleuSignature, chrfSignature: d.chrfSignature })) });
			} finally {
				interrupt.dispose();
				await generator.close();
			}
		},
	},
	judge: {
		description: "Pairwise LLM-as-judge in FastChat's MT-Bench way (both orders, [[A]]/[[B]]/[[C]]) or single 1–10 grading; win/tie/loss and Δ with bootstrap 95% CI per category (Tables 1, 4)",
		options: {
			questions: { type: "string", valueName: "<file>", required: true, description: "The question set the answers answer (FastChat question.jsonl: categories and reference answers)" },
			format: { type: "string", valueName: `<${QUESTION_FORMATS.join("|")}>`, description: "Question format (default: from the file name)" },
			answers: { type: "string", valueName: "<file>", multiple: true, required: true, description: "Answer file (FastChat model_answer JSONL, eval answer JSONL or AlpacaEval JSON): twice for pairwise (first = the model under test, second = the baseline); once or twice for single" },
			mode: { type: "string", valueName: "<pairwise|single>", description: "pairwise: judged twice with positions swapped; single: a 1–10 rating per answer (two files: win/tie/loss from the ratings)", default: "pairwise" },
			"judge-endpoint": { type: "string", valueName: "<url>", required: true, description: "OpenAI-compatible endpoint of the judge (GPT-4 in the paper); key from --api-key-env, else TRANSLLM_API_KEY (this machine only) or OPENAI_API_KEY (api.openai.com or this machine)" },
			"judge-model": { type: "string", valueName: "<name>", required: true, description: "The judge's model name at the endpoint" },
			"judge-prompts": { type: "string", valueName: "<file>", description: "Judge prompts in FastChat's judge_prompts.jsonl shape; they replace the built-in prompts of the same name" },
			lang: { type: "string", valueName: "<code>", description: "The answers' language", default: "en" },
			"judge-language": { type: "string", valueName: "<direct|back-translate>", description: "direct: the judge reads the target-language answers and is told their language (App. A.4.2); back-translate: questions and answers are translated into English first", default: "direct" },
			...translatorOptions,
			"parse-retries": { type: "string", valueName: "<n>", description: "Retries of a judgment without a readable verdict (counted; given up: left out of the rates, never a tie)", default: "3" },
			"max-tokens": { type: "string", valueName: "<n>", description: "The judge's max_tokens", default: "2048" },
			bootstrap: { type: "string", valueName: "<n>", description: "Bootstrap resamples of the questions for the 95% interval of Δ", default: "1000" },
			seed: { type: "string", valueName: "<n>", description: "Seed of the bootstrap", default: "0" },
			limit: { type: "string", valueName: "<n>", description: "Only the first n questions" },
			out: { type: "string", valueName: "<file>", required: true, description: "Result JSON (table, cost, report section); judgments at <out>.judgments.jsonl" },
			concurrency: { type: "string", valueName: "<n>", description: "Judge requests in flight at once", default: "8" },
			...retryOptions,
			...keyOptions,
			...evalJobOptions,
		},
		details:
			"Examples:\n  transllm eval judge --questions mt_bench_th/question.jsonl --answers model_answer/transllm.jsonl --answers model_answer/gpt-4.jsonl --judge-endpoint https://api.openai.com/v1 --judge-model gpt-4-0613 --lang th --out judge-vs-gpt4.json\nThe judge prompts are transllm's own, with FastChat's structure (names, slots, [[A]]/[[B]]/[[C]] and [[rating]]).",
		async run({ values }, context) {
			const out = stringOption(values, "out");
			const judge = endpointBackend(values, "judge-endpoint", "judge-model", context);
			const lang = getLanguage(optionalString(values, "lang") ?? "en").code;
			const judgeLanguage = choiceOption<JudgeLanguage>(values, "judge-language", ["direct", "back-translate"], "direct");
			const translator = judgeLanguage === "back-translate" && lang !== "en" ? translatorFromFlags(values, judge, context) : undefined;
			const interrupt = interruptSignal();
			try {
				const result = await judgeAnswers({
					questions: stringOption(values, "questions"),
					format: choiceOption<QuestionFormat>(values, "format", QUESTION_FORMATS, guessQuestionFormat(stringOption(values, "questions"))),
					answers: fileListOption(values, "answers"),
					mode: choiceOption(values, "mode", ["pairwise", "single"] as const, "pairwise"),
					judge,
					prompts: optionalString(values, "judge-prompts"),
					lang,
					judgeLanguage,
					...(translator ? { translator } : {}),
					parseRetries: numberOption(values, "parse-retries", 3, { min: 0, integer: true }),
					maxTokens: numberOption(values, "max-tokens", 2048, { min: 1, integer: true }),
					samples: numberOption(values, "bootstrap", 1000, { min: 0, integer: true }),
					seed: numberOption(values, "seed", 0, { integer: true }),
					limit: values.limit !== undefined ? numberOption(values, "limit", 0, { min: 1, integer: true }) : undefined,
					out: `${out.replace(/\.json$/, "")}.judgments.jsonl`,
					resume: values.resume === true,
					overwrite: values.force === true,
					progress: values.quiet === true ? false : context.stderr,
					signal: interrupt.signal,
				});
				const { table, ...numbers } = result.results;
				await writeResult(context, out, result, { ...numbers, all: table?.filter((t) => t.category === "all") });
			} finally {
				interrupt.dispose();
				await judge.close();
			}
		},
	},
	safety: {
		description: "Safety (Table 3): back-translate answers to harmful instructions, label Reject/Bypass/Unclear by the refusal-marker rule and an optional judge, with their agreement",
		options: {
			answers: { type: "string", valueName: "<file>", required: true, description: "eval answer JSONL of an AdvBench-style set (eval answer --questions harmful_behaviors_th.csv)" },
			lang: { type: "string", valueName: "<code>", description: "The answers' language (en: nothing to translate)", default: "th" },
			...translatorOptions,
			"judge-endpoint": { type: "string", valueName: "<url>", description: "OpenAI-compatible endpoint of a judge that labels each answer too" },
			"judge-model": { type: "string", valueName: "<name>", description: "The judge's model name" },
			"parse-retries": { type: "string", valueName: "<n>", description: "Retries of a judge label that cannot be read", default: "3" },
			out: { type: "string", valueName: "<file>", required: true, description: "Result JSON (percentages, counts, agreement, examples, report section); labels at <out>.labels.jsonl" },
			baseline: { type: "string", valueName: "<file>", description: "Another model's eval safety result JSON: Pearson's χ² test of the two models' label counts (App. C.1), by the rule and the judge" },
			concurrency: { type: "string", valueName: "<n>", description: "Requests in flight at once", default: "8" },
			...retryOptions,
			...keyOptions,
			...evalJobOptions,
		},
		details: "The refusal markers and the rule's known weaknesses are listed in the @transllm/eval README.",
		async run({ values }, context) {
			const out = stringOption(values, "out");
			const lang = getLanguage(optionalString(values, "lang") ?? "th").code;
			const baselinePath = optionalString(values, "baseline");
			const baseline = baselinePath === undefined ? undefined : (await readJsonFile<EvalResult<SafetyResults>>(baselinePath, "baseline safety result")).results;
			if (baselinePath !== undefined && (baseline?.rule?.counts === undefined || typeof baseline.model !== "string")) throw new InputError("not an eval safety result (no results.rule.counts)", { file: baselinePath, field: "results" });
			const judge = values["judge-endpoint"] !== undefined ? endpointBackend(values, "judge-endpoint", "judge-model", context) : undefined;
			const translator = lang !== "en" ? translatorFromFlags(values, judge, context) : undefined;
			const interrupt = interruptSignal();
			try {
				const result = await evaluateSafety({
					answers: stringOption(values, "answers"),
					lang,
					...(translator ? { translator } : {}),
					...(judge ? { judge } : {}),
					parseRetries: numberOption(values, "parse-retries", 3, { min: 0, integer: true }),
					out: `${out.replace(/\.json$/, "")}.labels.jsonl`,
					resume: values.resume === true,
					overwrite: values.force === true,
					progress: values.quiet === true ? false : context.stderr,
					signal: interrupt.signal,
					...(baseline ? { baseline } : {}),
				});
				const { examples, ...numbers } = result.results;
				await writeResult(context, out, result, { ...numbers, examples: examples.length });
			} finally {
				interrupt.dispose();
				await judge?.close();
				await translator?.close();
			}
		},
	},
	report: {
		description: "Collect eval result JSON files into one self-contained HTML page (tables shaped like the paper's, inline SVG charts)",
		options: {
			out: { type: "string", valueName: "<file>", required: true, description: "The HTML page" },
			title: { type: "string", valueName: "<text>", description: "Page title", default: "TransLLM evaluation report" },
		},
		positionals: [{ name: "results", description: "Result JSON files written by eval judge/safety/forgetting/language/translate", required: true, variadic: true }],
		async run({ values, positionals }, context) {
			const summary = await writeReport(positionals, stringOption(values, "out"), { title: optionalString(values, "title") });
			context.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
		},
	},
};
