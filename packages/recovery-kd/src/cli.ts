import { setMaxListeners } from "node:events";
import { ConfigError, numberOption, optionalString, stringOption } from "@transllm/core";
import type { CliContext, CliValues, CommandTable } from "@transllm/core";
import { createChatTranslationBackend } from "./chat-translation-backend.js";
import type { GenerationBackend } from "./generation-backend.js";
import { createGoogleTranslateBackend, GOOGLE_TRANSLATE_V2_ENDPOINT } from "./google-translate-backend.js";
import { DEFAULT_GENERATION_PARAMS, generateRecoveryKd, mergeRecoveryKdRanks } from "./kd-generate.js";
import { mergeTranslatedKdRanks, translateRecoveryKd } from "./kd-translate.js";
import { createLocalGenerationBackend } from "./local-generation-backend.js";
import { loadLocalModel } from "./load-local-model.js";
import { createOpenAiGenerationBackend } from "./openai-generation-backend.js";
import { startOpenAiCompatibleServer } from "./openai-compatible-server.js";
import { endpointChatAnswerer, localChatAnswerer, runChatSession } from "./chat-session.js";
import type { ChatAnswerer } from "./chat-session.js";
import { GOOGLE_KEY_DEFAULTS, OPENAI_KEY_DEFAULTS, apiKeyFromEnv, keyForEndpoint } from "./secrets.js";

function policy(values: CliValues): "error" | "skip" {
	const value = optionalString(values, "on-bad-record") ?? "error";
	if (value !== "error" && value !== "skip") throw new ConfigError(`--on-bad-record must be error or skip, got "${value}"`);
	return value;
}

function executionProvider(values: CliValues): "auto" | "cpu" | "cuda" {
	const value = optionalString(values, "execution-provider") ?? "auto";
	if (value !== "auto" && value !== "cpu" && value !== "cuda") throw new ConfigError(`--execution-provider must be auto, cpu or cuda, got "${value}"`);
	return value;
}

/** Ends the job cleanly on Ctrl-C / SIGTERM: the partial output is kept for --resume. */
function interruptSignal(): { signal: AbortSignal; dispose(): void } {
	const controller = new AbortController();
	// Every request in flight listens to it (--concurrency of them, and their retries): no leak past 10.
	setMaxListeners(0, controller.signal);
	const stop = (): void => controller.abort(new Error("interrupted"));
	process.once("SIGINT", stop);
	process.once("SIGTERM", stop);
	return { signal: controller.signal, dispose: () => (process.off("SIGINT", stop), process.off("SIGTERM", stop)) };
}

const retryOptions = {
	timeout: { type: "string", valueName: "<seconds>", description: "Timeout of one request", default: "300" },
	retries: { type: "string", valueName: "<n>", description: "Retries of a request on 429, 5xx, timeouts, network errors and malformed bodies (exponential backoff with jitter, Retry-After honoured)", default: "6" },
} as const;

const jobOptions = {
	resume: { type: "boolean", description: "Continue an interrupted run where it stopped (the finished file equals an uninterrupted run's)" },
	force: { type: "boolean", description: "Start over: replace a finished output, discard an unfinished one" },
	"on-bad-record": { type: "string", valueName: "<error|skip>", description: "A bad input line stops the run naming file:line (error) or goes to <out>.rejects.jsonl (skip)", default: "error" },
	quiet: { type: "boolean", description: "No progress output" },
} as const;

/** A rank's share of a job run as W tasks (a Slurm array, worker processes); `kd merge` joins the parts. */
const shardOptions = {
	rank: { type: "string", valueName: "<r>", description: "This task's rank: items r, r+W, … of the input (with --world-size); join the parts with `kd merge`", default: "0" },
	"world-size": { type: "string", valueName: "<W>", description: "Number of tasks sharing the input", default: "1" },
} as const;

function shard(values: CliValues): { rank: number; worldSize: number } {
	return { rank: numberOption(values, "rank", 0, { min: 0, integer: true }), worldSize: numberOption(values, "world-size", 1, { min: 1, integer: true }) };
}

const keyOptions = {
	"api-key-env": {
		type: "string",
		valueName: "<VAR>",
		description: "Environment variable whose key is sent to this endpoint (default keys go only to their own service or to this machine)",
	},
} as const;

/** The key for `url`, saying on stderr which variable was used (never the key). */
function endpointKey(values: CliValues, url: string, defaults: typeof OPENAI_KEY_DEFAULTS | typeof GOOGLE_KEY_DEFAULTS, context: CliContext): string | undefined {
	const { key, note } = keyForEndpoint(url, defaults, optionalString(values, "api-key-env"));
	if (note) context.stderr.write(`${note}\n`);
	return key?.value;
}

/** The Google key for --google-endpoint: required. */
function googleKey(values: CliValues, context: CliContext): string {
	const endpoint = optionalString(values, "google-endpoint") ?? GOOGLE_TRANSLATE_V2_ENDPOINT;
	const key = endpointKey(values, endpoint, GOOGLE_KEY_DEFAULTS, context);
	if (key === undefined) throw new ConfigError(`--google needs an API key: set ${GOOGLE_KEY_DEFAULTS.map((v) => v.name).join(" or ")}, or name the variable with --api-key-env`);
	return key;
}

/** A remote chat backend from --endpoint/--model-name, its key from the environment. */
function remoteBackend(values: CliValues, concurrencyDefault: number, context: CliContext): GenerationBackend {
	const endpoint = stringOption(values, "endpoint");
	const modelName = optionalString(values, "model-name");
	if (!modelName) throw new ConfigError("--endpoint needs --model-name (the name the server knows the model by)");
	return createOpenAiGenerationBackend({
		endpoint,
		model: modelName,
		apiKey: endpointKey(values, endpoint, OPENAI_KEY_DEFAULTS, context),
		concurrency: numberOption(values, "concurrency", concurrencyDefault, { min: 1, integer: true }),
		timeoutMs: numberOption(values, "timeout", 300, { min: 0.001 }) * 1000,
		retry: { retries: numberOption(values, "retries", 6, { min: 0, integer: true }) },
	});
}

async function localBackend(values: CliValues): Promise<GenerationBackend> {
	const loaded = await loadLocalModel(stringOption(values, "model"), { executionProvider: executionProvider(values) });
	return createLocalGenerationBackend({
		model: loaded.model,
		modelName: optionalString(values, "model-name") ?? loaded.name,
		location: loaded.location,
		batchSize: numberOption(values, "batch-size", 8, { min: 1, integer: true }),
		dispose: loaded.dispose,
	});
}

function oneOf(values: CliValues, names: string[]): string {
	const given = names.filter((name) => values[name] !== undefined && values[name] !== false);
	if (given.length !== 1) throw new ConfigError(`give exactly one of ${names.map((n) => `--${n}`).join(", ")}${given.length ? ` (got ${given.map((n) => `--${n}`).join(", ")})` : ""}`);
	return given[0] as string;
}

function printSummary(context: CliContext, summary: Record<string, unknown>): void {
	context.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
}

/** `transllm kd …`: recovery-KD generation and its translation. */
export const kdCommands: CommandTable = {
	generate: {
		description: "Answer English queries with the chat model itself (greedy): recovery KD data (TransLLM Sec. 2.2.3)",
		options: {
			queries: { type: "string", valueName: "<file>", required: true, description: "English queries, JSONL: Alpaca shape {instruction, input?} or {id, query}" },
			out: { type: "string", valueName: "<file>", required: true, description: "Output JSONL {id, query_en, response_en, model, params, finish_reason}; .manifest.json and .rejects.jsonl beside it" },
			model: { type: "string", valueName: "<dir>", description: "Local model directory (loaded with @transllm/runtime; its chat template applies)" },
			endpoint: { type: "string", valueName: "<url>", description: "OpenAI-compatible API base URL (vLLM, TGI, llama.cpp, Ollama, transllm serve), e.g. http://127.0.0.1:8000/v1; key from --api-key-env, else TRANSLLM_API_KEY (this machine only) or OPENAI_API_KEY (api.openai.com or this machine)" },
			"model-name": { type: "string", valueName: "<name>", description: "Model name at the endpoint (required with --endpoint); with --model, the name written into records" },
			concurrency: { type: "string", valueName: "<n>", description: "Requests in flight at once (remote)", default: "8" },
			"batch-size": { type: "string", valueName: "<n>", description: "Queries per forward pass (local)", default: "8" },
			"max-tokens": { type: "string", valueName: "<n>", description: "Most new tokens per answer; longer answers are flagged truncated", default: String(DEFAULT_GENERATION_PARAMS.max_tokens) },
			temperature: { type: "string", valueName: "<t>", description: "Sampling temperature; 0 is greedy, as in the paper (App. A.1)", default: "0" },
			"top-p": { type: "string", valueName: "<p>", description: "Nucleus sampling (only with temperature > 0)" },
			seed: { type: "string", valueName: "<n>", description: "Sampling seed" },
			system: { type: "string", valueName: "<text>", description: "System prompt (none by default)" },
			limit: { type: "string", valueName: "<n>", description: "Use only the first n queries (the paper: 50000 of Alpaca's 52K)" },
			"execution-provider": { type: "string", valueName: "<auto|cpu|cuda>", description: "onnxruntime execution provider (local)", default: "auto" },
			...shardOptions,
			...keyOptions,
			...retryOptions,
			...jobOptions,
		},
		details:
			"Examples:\n  transllm kd generate --queries alpaca.jsonl --limit 50000 --endpoint http://127.0.0.1:8000/v1 --model-name llama-2-7b-chat --out kd.jsonl\n  transllm kd generate --queries alpaca.jsonl --model ./llama-2-7b-chat-onnx --out kd.jsonl --resume\nEvery answer is kept, safety refusals included; empty and truncated answers are flagged, not dropped.",
		async run({ values }, context) {
			const which = oneOf(values, ["model", "endpoint"]);
			const backend = which === "model" ? await localBackend(values) : remoteBackend(values, 8, context);
			const interrupt = interruptSignal();
			try {
				const temperature = numberOption(values, "temperature", 0, { min: 0, max: 2 });
				const summary = await generateRecoveryKd({
					queries: stringOption(values, "queries"),
					out: stringOption(values, "out"),
					backend,
					params: {
						temperature,
						max_tokens: numberOption(values, "max-tokens", DEFAULT_GENERATION_PARAMS.max_tokens, { min: 1, integer: true }),
						...(values["top-p"] !== undefined ? { top_p: numberOption(values, "top-p", 1, { min: 0, max: 1 }) } : {}),
						...(values.seed !== undefined ? { seed: numberOption(values, "seed", 0, { integer: true }) } : {}),
						...(values.system !== undefined ? { system: stringOption(values, "system") } : {}),
					},
					resume: values.resume === true,
					overwrite: values.force === true,
					limit: values.limit !== undefined ? numberOption(values, "limit", 0, { min: 1, integer: true }) : undefined,
					...shard(values),
					onBadRecord: policy(values),
					progress: values.quiet === true ? false : context.stderr,
					signal: interrupt.signal,
				});
				printSummary(context, { ...summary });
			} finally {
				interrupt.dispose();
				await backend.close();
			}
		},
	},
	translate: {
		description: "Machine-translate recovery-KD pairs into the target language for TCOT and translation data (TransLLM Sec. 2.2.3)",
		options: {
			input: { type: "string", valueName: "<file>", required: true, description: "Output of `kd generate` ({id, query_en, response_en} JSONL)" },
			lang: { type: "string", valueName: "<code>", required: true, description: "Target language (th, ar, pt, te, tr …)" },
			out: { type: "string", valueName: "<file>", required: true, description: "Output JSONL {id, query_en, response_en, query_t, response_t, lang}; .manifest.json (with the report of flagged ids) beside it" },
			google: { type: "boolean", description: "Google Cloud Translation v2 (the paper's engine); key from --api-key-env, else GOOGLE_TRANSLATE_API_KEY or GOOGLE_API_KEY (Google's host or this machine only)" },
			"google-endpoint": { type: "string", valueName: "<url>", description: "Translation v2 endpoint (a proxy or a loopback server)", default: GOOGLE_TRANSLATE_V2_ENDPOINT },
			endpoint: { type: "string", valueName: "<url>", description: "OpenAI-compatible endpoint of a chat or MT model that translates through translation prompts" },
			"model-name": { type: "string", valueName: "<name>", description: "Model name at --endpoint" },
			model: { type: "string", valueName: "<dir>", description: "Translate with a local chat model (the model itself) through translation prompts" },
			concurrency: { type: "string", valueName: "<n>", description: "Records (Google) or prompts (chat) in flight at once", default: "8" },
			"batch-size": { type: "string", valueName: "<n>", description: "Prompts per forward pass (local)", default: "8" },
			"max-tokens": { type: "string", valueName: "<n>", description: "Most new tokens per translated text (chat translation)", default: "2048" },
			"max-request-chars": { type: "string", valueName: "<n>", description: "Characters per Google request", default: "5000" },
			"min-script-ratio": { type: "string", valueName: "<r>", description: "Share of letters in the target script below which a field is a language mismatch", default: "0.5" },
			"skip-lang-check": { type: "boolean", description: "Do not check the language of translated fields" },
			"execution-provider": { type: "string", valueName: "<auto|cpu|cuda>", description: "onnxruntime execution provider (local)", default: "auto" },
			...shardOptions,
			...keyOptions,
			...retryOptions,
			...jobOptions,
		},
		details:
			"Examples:\n  GOOGLE_API_KEY=… transllm kd translate --input kd.jsonl --lang th --google --out kd.th.jsonl\n  transllm kd translate --input kd.jsonl --lang th --endpoint http://127.0.0.1:8000/v1 --model-name llama-2-7b-chat --out kd.th.jsonl\nCode blocks are never sent; inline code, URLs, e-mails, LaTeX, placeholders and identifiers are masked and restored. Records whose masks were lost, or whose language check failed, are kept and flagged.",
		async run({ values }, context) {
			const which = oneOf(values, ["google", "endpoint", "model"]);
			const backend =
				which === "google"
					? createGoogleTranslateBackend({
							apiKey: googleKey(values, context),
							endpoint: optionalString(values, "google-endpoint"),
							concurrency: numberOption(values, "concurrency", 8, { min: 1, integer: true }),
							maxRequestChars: numberOption(values, "max-request-chars", 5000, { min: 1, integer: true }),
							timeoutMs: numberOption(values, "timeout", 300, { min: 0.001 }) * 1000,
							retry: { retries: numberOption(values, "retries", 6, { min: 0, integer: true }) },
						})
					: createChatTranslationBackend({
							generator: which === "model" ? await localBackend(values) : remoteBackend(values, 8, context),
							maxTokens: numberOption(values, "max-tokens", 2048, { min: 1, integer: true }),
						});
			const interrupt = interruptSignal();
			try {
				const summary = await translateRecoveryKd({
					input: stringOption(values, "input"),
					out: stringOption(values, "out"),
					lang: stringOption(values, "lang"),
					backend,
					resume: values.resume === true,
					overwrite: values.force === true,
					...shard(values),
					onBadRecord: policy(values),
					checkLanguage: values["skip-lang-check"] !== true,
					minScriptRatio: numberOption(values, "min-script-ratio", 0.5, { min: 0, max: 1 }),
					progress: values.quiet === true ? false : context.stderr,
					signal: interrupt.signal,
				});
				printSummary(context, { ...summary });
			} finally {
				interrupt.dispose();
				await backend.close();
			}
		},
	},
	merge: {
		description: "Join the parts of `kd generate` or `kd translate` run as W tasks (--rank/--world-size) into one output, in input order, byte-identical to a single task's",
		options: {
			step: { type: "string", valueName: "<generate|translate>", required: true, description: "The step that wrote the parts" },
			input: { type: "string", valueName: "<file>", required: true, description: "The input every task read: the queries (generate) or the KD records (translate)" },
			part: { type: "string", valueName: "<file>", required: true, multiple: true, description: "A task's output, in rank order (--part rank-0.jsonl --part rank-1.jsonl …)" },
			out: { type: "string", valueName: "<file>", required: true, description: "The merged output JSONL" },
			limit: { type: "string", valueName: "<n>", description: "The --limit the generate tasks were given" },
			"on-bad-record": jobOptions["on-bad-record"],
		},
		details: "Example:\n  transllm kd generate --queries q.jsonl --model ./m --rank $SLURM_ARRAY_TASK_ID --world-size 8 --out kd.$SLURM_ARRAY_TASK_ID.jsonl\n  transllm kd merge --step generate --input q.jsonl --part kd.0.jsonl … --part kd.7.jsonl --out kd.jsonl",
		async run({ values }, context) {
			const step = stringOption(values, "step");
			const parts = values.part as string[];
			const common = { parts, out: stringOption(values, "out"), onBadRecord: policy(values) };
			if (step === "generate") {
				const limit = values.limit !== undefined ? numberOption(values, "limit", 0, { min: 1, integer: true }) : undefined;
				printSummary(context, { ...(await mergeRecoveryKdRanks({ ...common, queries: stringOption(values, "input"), limit })) });
			} else if (step === "translate") printSummary(context, { ...(await mergeTranslatedKdRanks({ ...common, input: stringOption(values, "input") })) });
			else throw new ConfigError(`--step must be generate or translate (got ${step})`);
		},
	},
};

/** `transllm serve`: an OpenAI-compatible server over a local model. */
export const serveCommand: CommandTable = {
	serve: {
		description: "Serve a local model over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/completions, /v1/models; JSON or SSE)",
		options: {
			model: { type: "string", valueName: "<dir>", required: true, description: "Model directory (loaded with @transllm/runtime)" },
			"model-name": { type: "string", valueName: "<name>", description: "Name clients send as `model` (default: the directory's name)" },
			host: { type: "string", valueName: "<host>", description: "Address to listen on", default: "127.0.0.1" },
			port: { type: "string", valueName: "<port>", description: "Port (0 picks a free one)", default: "8000" },
			"max-batch": { type: "string", valueName: "<n>", description: "Sequences decoded together in one forward pass", default: "8" },
			batching: { type: "string", valueName: "<continuous|micro>", description: "continuous: a request joins the running batch at the next decode step and leaves when done; micro: requests that arrive while the model is busy run as one batch to the end", default: "continuous" },
			"max-tokens": { type: "string", valueName: "<n>", description: "max_tokens of requests that give none", default: "512" },
			"execution-provider": { type: "string", valueName: "<auto|cpu|cuda>", description: "onnxruntime execution provider", default: "auto" },
			tcot: { type: "boolean", description: "Serve as a TransLLM TCOT model (default when the vocabulary has <EN>, <RESPONSE> and a language-ID token): the target-language answer as content, the English parts as reasoning_content, English-only history" },
			"no-tcot": { type: "boolean", description: "Serve a TCOT model's raw output (markers and all), as a plain model" },
			lang: { type: "string", valueName: "<code>", description: "TCOT target language (default: the model's only language-ID token)" },
			"tcot-cache": { type: "string", valueName: "<file>", description: "Persist the English-history cache (turn hash → English query and answer) to this JSON file, loaded at start" },
			"tcot-cache-size": { type: "string", valueName: "<n>", description: "Turns the English-history cache holds (least recently used leave first)", default: "10000" },
			"tcot-target-reserve": { type: "string", valueName: "<share>", description: "Share of max_tokens kept for the target answer; the English part stops at the rest and the paper's fallback continues", default: "0.25" },
			"log-prompts": { type: "boolean", description: "Write every prompt given to the model (TCOT answer, translation, fallback continuation) to stderr" },
			"max-body-bytes": { type: "string", valueName: "<n>", description: "Largest request body (413 beyond)", default: "1048576" },
			"max-choices": { type: "string", valueName: "<n>", description: "Largest n (choices per request)", default: "8" },
		},
		details:
			"Set TRANSLLM_API_KEY to require `Authorization: Bearer <key>`. Runs until SIGINT/SIGTERM. Routes: /v1/models, /v1/chat/completions, /v1/completions, /tokenize, /detokenize, /health. " +
			"With a TCOT model, each response carries `transllm` (history sources, fallback, hidden tokens) and usage.completion_tokens_details.reasoning_tokens counts the hidden English tokens.",
		async run({ values }, context) {
			const maxBatch = numberOption(values, "max-batch", 8, { min: 1, integer: true });
			const batching = optionalString(values, "batching") ?? "continuous";
			if (batching !== "continuous" && batching !== "micro") throw new ConfigError(`--batching must be continuous or micro, got "${batching}"`);
			const loaded = await loadLocalModel(stringOption(values, "model"), { executionProvider: executionProvider(values), maxBatch });
			const server = await startOpenAiCompatibleServer({
				batching,
				model: loaded.model,
				modelName: optionalString(values, "model-name") ?? loaded.name,
				apiKey: apiKeyFromEnv(["TRANSLLM_API_KEY"])?.value,
				maxBatch,
				defaultMaxTokens: numberOption(values, "max-tokens", 512, { min: 1, integer: true }),
				host: optionalString(values, "host"),
				port: numberOption(values, "port", 8000, { min: 0, max: 65535, integer: true }),
				onRequest: (entry) => context.stderr.write(`${entry.method} ${entry.path} ${entry.status} ${entry.ms}ms\n`),
				maxBodyBytes: numberOption(values, "max-body-bytes", 1048576, { min: 1, integer: true }),
				maxChoices: numberOption(values, "max-choices", 8, { min: 1, integer: true }),
				tcot:
					values["no-tcot"] === true
						? false
						: {
								...(optionalString(values, "lang") !== undefined ? { lang: optionalString(values, "lang") } : {}),
								...(optionalString(values, "tcot-cache") !== undefined ? { cacheFile: optionalString(values, "tcot-cache") } : {}),
								cacheSize: numberOption(values, "tcot-cache-size", 10000, { min: 1, integer: true }),
								targetReserve: numberOption(values, "tcot-target-reserve", 0.25, { min: 0, max: 0.9 }),
								...(values["log-prompts"] === true ? { onPrompt: (prompt: string, purpose: string) => void context.stderr.write(`[${purpose} prompt] ${JSON.stringify(prompt)}\n`) } : {}),
								...(values.tcot === true ? { require: true } : {}),
							},
			});
			context.stdout.write(`serving ${optionalString(values, "model-name") ?? loaded.name} at ${server.baseUrl}${server.tcot.enabled ? ` (TCOT, target language ${server.tcot.lang ?? "any"})` : ""}\n`);
			await new Promise<void>((resolve) => {
				process.once("SIGINT", resolve);
				process.once("SIGTERM", resolve);
			});
			await server.close();
			await loaded.dispose();
		},
	},
};

/** `transllm chat`: an interactive terminal chat with a local model or an endpoint (TCOT hidden, /think shows it). */
export const chatCommand: CommandTable = {
	chat: {
		description: "Chat in the terminal with a local model or an OpenAI-compatible endpoint; a TCOT model's English parts stay hidden (/think shows them)",
		options: {
			model: { type: "string", valueName: "<dir>", description: "Local model directory (loaded with @transllm/runtime)" },
			endpoint: { type: "string", valueName: "<url>", description: "OpenAI-compatible API base URL (e.g. transllm serve's http://127.0.0.1:8000/v1); key as for kd generate (TRANSLLM_API_KEY, OPENAI_API_KEY for api.openai.com, or --api-key-env)" },
			"model-name": { type: "string", valueName: "<name>", description: "Model name at the endpoint (required with --endpoint)" },
			system: { type: "string", valueName: "<text>", description: "System prompt" },
			"max-tokens": { type: "string", valueName: "<n>", description: "Most tokens per answer (with a TCOT model, the hidden English ones included)", default: "512" },
			temperature: { type: "string", valueName: "<t>", description: "Sampling temperature; 0 is greedy", default: "0" },
			"top-p": { type: "string", valueName: "<p>", description: "Nucleus sampling (with temperature > 0)" },
			seed: { type: "string", valueName: "<n>", description: "Sampling seed" },
			lang: { type: "string", valueName: "<code>", description: "TCOT target language of a local model (default: its only language-ID token)" },
			"no-tcot": { type: "boolean", description: "Talk to a local TCOT model's raw output (markers and all)" },
			think: { type: "boolean", description: "Show the English parts from the start (/think toggles)" },
			"execution-provider": { type: "string", valueName: "<auto|cpu|cuda>", description: "onnxruntime execution provider (local model)", default: "auto" },
			...keyOptions,
		},
		details: "Commands: /think (show or hide the English query and answer), /history, /reset, /save <file.jsonl> (one message per line: role, content, reasoning_content), /exit. Answers stream; Ctrl-C stops the current answer (the program keeps running), Ctrl-D quits.",
		async run({ values }, context) {
			const source = oneOf(values, ["model", "endpoint"]);
			const sampling = {
				maxTokens: numberOption(values, "max-tokens", 512, { min: 1, integer: true }),
				temperature: numberOption(values, "temperature", 0, { min: 0, max: 2 }),
				...(optionalString(values, "top-p") !== undefined ? { topP: numberOption(values, "top-p", 1, { min: 0, max: 1 }) } : {}),
				...(optionalString(values, "seed") !== undefined ? { seed: numberOption(values, "seed", 0, { integer: true }) } : {}),
			};
			let dispose = async (): Promise<void> => {};
			let answerer: ChatAnswerer;
			if (source === "model") {
				const loaded = await loadLocalModel(stringOption(values, "model"), { executionProvider: executionProvider(values) });
				dispose = loaded.dispose;
				answerer = await localChatAnswerer(loaded.model, { ...sampling, name: loaded.name, ...(values["no-tcot"] === true ? { tcot: false } : {}), ...(optionalString(values, "lang") !== undefined ? { lang: optionalString(values, "lang") } : {}) });
			} else {
				const modelName = optionalString(values, "model-name");
				if (!modelName) throw new ConfigError("--endpoint needs --model-name (the name the server knows the model by)");
				const endpoint = stringOption(values, "endpoint");
				const apiKey = endpointKey(values, endpoint, OPENAI_KEY_DEFAULTS, context);
				answerer = endpointChatAnswerer({ ...sampling, endpoint, model: modelName, ...(apiKey !== undefined ? { apiKey } : {}) });
			}
			try {
				await runChatSession({ answerer, input: process.stdin, output: context.stdout, ...(optionalString(values, "system") !== undefined ? { system: optionalString(values, "system") } : {}), think: values.think === true });
			} finally {
				await dispose();
			}
		},
	},
};

// The flag helpers other packages' commands share (`transllm eval …` reaches the same backends with the same flags).
export {
	policy as badRecordPolicyFromFlags,
	executionProvider as executionProviderFromFlags,
	interruptSignal,
	retryOptions,
	jobOptions,
	remoteBackend as remoteBackendFromFlags,
	localBackend as localBackendFromFlags,
	oneOf as oneOfFlags,
	keyOptions,
	endpointKey as endpointKeyFromFlags,
	googleKey as googleKeyFromFlags,
};
