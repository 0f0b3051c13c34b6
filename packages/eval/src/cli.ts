import { ConfigError, getLanguage, numberOption, optionalString, stringOption } from "@transllm/core";
import type { CliContext, CliValues, CommandTable } from "@transllm/core";
import {
	OPENAI_KEY_VARIABLES,
	apiKeyFromEnv,
	createChatTranslationBackend,
	executionProviderFromFlags,
	interruptSignal,
	jobOptions,
	localBackendFromFlags,
	oneOfFlags,
	remoteBackendFromFlags,
	retryOptions,
} from "@transllm/recovery-kd";
import { localAnswerModel, remoteAnswerModel } from "./answer-model.js";
import type { AnswerModel } from "./answer-model.js";
import { generateAnswers } from "./answers.js";
import type { AnswerMode } from "./answers.js";
import { BLEU_TOKENIZERS } from "./bleu-tokenizers.js";
import type { BleuTokenizerName } from "./bleu-tokenizers.js";
import { measureForgetting } from "./forgetting.js";
import { languageFidelity } from "./language-fidelity.js";
import { QUESTION_FORMATS, guessQuestionFormat } from "./questions.js";
import type { QuestionFormat } from "./questions.js";
import { writeEvalResult } from "./report-section.js";
import type { EvalResult } from "./report-section.js";
import { evaluateTranslation } from "./translation-eval.js";

function choice<T extends string>(values: CliValues, name: string, choices: readonly T[], fallback: T): T {
	const value = optionalString(values, name) ?? fallback;
	if (!choices.includes(value as T)) throw new ConfigError(`--${name} must be one of ${choices.join(", ")}, got "${value}"`);
	return value as T;
}

/** The answering model of `eval answer` from --model or --endpoint/--model-name (keys from the environment). */
async function answerModelFromFlags(values: CliValues): Promise<AnswerModel> {
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
	return remoteAnswerModel({
		endpoint: stringOption(values, "endpoint"),
		model: modelName,
		apiKey: apiKeyFromEnv(OPENAI_KEY_VARIABLES)?.value,
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

const modelOptions = {
	model: { type: "string", valueName: "<dir>", description: "Local model directory (ONNX, loaded with @transllm/runtime; its chat template applies)" },
	endpoint: { type: "string", valueName: "<url>", description: "OpenAI-compatible API base URL (vLLM, TGI, llama.cpp, Ollama, transllm serve, a hosted model); key from TRANSLLM_API_KEY or OPENAI_API_KEY" },
	"model-name": { type: "string", valueName: "<name>", description: "Model name at --endpoint (required with it); with --model, the name written as model_id" },
	concurrency: { type: "string", valueName: "<n>", description: "Requests in flight at once (remote)", default: "8" },
	"batch-size": { type: "string", valueName: "<n>", description: "Prompts per forward pass (local)", default: "8" },
	"execution-provider": { type: "string", valueName: "<auto|cpu|cuda>", description: "onnxruntime execution provider (local)", default: "auto" },
	...retryOptions,
} as const;

/** `transllm eval …`: TransLLM's evaluation (paper Sec. 3–4, Tables 1–4, 8, 9). */
export const evalCommands: CommandTable = {
	answer: {
		description: "Answer a benchmark's questions (MT-Bench, AlpacaEval, AdvBench, JSONL) with a TCOT or plain model, in the benchmark's answer format",
		options: {
			questions: { type: "string", valueName: "<file>", required: true, description: "Question set: FastChat question.jsonl, AlpacaEval JSON, AdvBench CSV (goal,target) or JSONL" },
			format: { type: "string", valueName: `<${QUESTION_FORMATS.join("|")}>`, description: "Question format (default: from the file name: .csv advbench, .json alpaca-eval, question.jsonl mt-bench, else jsonl)" },
			field: { type: "string", valueName: "<name>", description: "JSONL: the field holding the question", default: "query" },
			out: { type: "string", valueName: "<file>", required: true, description: "Output JSONL of answer records (English TCOT parts included); MT-Bench answers also go to model_answer/<model>.jsonl beside it, AlpacaEval's to <out>.alpaca_eval.json" },
			mode: { type: "string", valueName: "<tcot|plain>", description: "tcot: a TransLLM model (English-only history, TCOT parsing with fallback); plain: a baseline's answer as given", default: "plain" },
			lang: { type: "string", valueName: "<code>", description: "Target language (tcot: whose language-ID token opens the answer)", default: "th" },
			"model-id": { type: "string", valueName: "<name>", description: "model_id / generator written into the answers (default: the model's name)" },
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
			const format = choice<QuestionFormat>(values, "format", QUESTION_FORMATS, guessQuestionFormat(questions));
			const mode = choice<AnswerMode>(values, "mode", ["tcot", "plain"], "plain");
			const model = await answerModelFromFlags(values);
			const interrupt = interruptSignal();
			try {
				const summary = await generateAnswers({
					questions,
					format,
					field: optionalString(values, "field"),
					out: stringOption(values, "out"),
					model,
					modelId: optionalString(values, "model-id") ?? optionalString(values, "model-name"),
					mode,
					lang: getLanguage(optionalString(values, "lang") ?? "th").code,
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
				context.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
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
			const generator = which === "model" ? await localBackendFromFlags(values) : remoteBackendFromFlags(values, 8);
			const prompt = choice(values, "prompt", ["tcot", "chat"] as const, "tcot");
			const direction = choice(values, "direction", ["both", "forward", "backward"] as const, "both");
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
						[source]: choice<BleuTokenizerName>(values, source === "en" ? "tokenize" : "tokenize-target", BLEU_TOKENIZERS, "13a"),
						[target]: choice<BleuTokenizerName>(values, target === "en" ? "tokenize" : "tokenize-target", BLEU_TOKENIZERS, "13a"),
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
};
