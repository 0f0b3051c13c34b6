import { readFile } from "node:fs/promises";
import {
	ConfigError,
	InputError,
	JsonlWriter,
	RejectsWriter,
	assertSameSettings,
	choiceOption,
	createProgress,
	listOption,
	numberOption,
	optionalString,
	readJsonl,
	readRunSettings,
	stringOption,
	TransllmError,
	writeJsonAtomic,
} from "@transllm/core";
import type { CliContext, CliOption, CliValues, CommandTable } from "@transllm/core";
import type { ChatMessage } from "@transllm/tcot";
import { loadModel } from "./chat-model.js";
import type { ChatModel } from "./chat-model.js";
import type { PromptInput } from "./chat-prompt.js";
import type { DecodeLoop } from "./engine.js";
import type { ExecutionProviderRequest } from "./execution-provider.js";
import { exportCommands } from "./export/export-command.js";

const modelOptions: Record<string, CliOption> = {
	model: { type: "string", required: true, valueName: "<dir>", description: "Model directory: config.json, tokenizer.json, tokenizer_config.json, model.onnx or onnx/model.onnx (+ .onnx_data)" },
	"execution-provider": { type: "string", default: "auto", valueName: "auto|cpu|cuda", description: "auto: CUDA when its provider loads, else CPU (the reason is recorded); cuda: fail without it" },
	threads: { type: "string", valueName: "<n>", description: "onnxruntime intra-op threads (default: all physical cores)" },
	"batch-size": { type: "string", default: "8", valueName: "<n>", description: "Sequences per onnxruntime run (left-padded, grouped by length)" },
	chat: { type: "boolean", description: "Render prompts with the model's chat template (the default when tokenizer_config.json has one); fails without one" },
	"no-chat-template": { type: "boolean", description: "Use prompts as raw text (with the tokenizer's BOS), not through the chat template" },
	system: { type: "string", valueName: "<text>", description: "System message before each user turn when the chat template is used" },
	out: { type: "string", valueName: "<file.jsonl>", description: "Output JSONL (written to <out>.partial, renamed when complete; default: stdout)" },
	resume: { type: "boolean", description: "Continue an interrupted --out after its last complete record" },
	force: { type: "boolean", description: "Start over: replace a finished --out, discard an unfinished one" },
	"on-bad-record": { type: "string", default: "error", valueName: "error|skip", description: "A malformed input line stops the job (error) or goes to <out>.rejects.jsonl (skip)" },
	quiet: { type: "boolean", description: "No progress on stderr" },
};

async function openModel(values: CliValues, extra: { decodeLoop?: DecodeLoop; chunkSteps?: number } = {}): Promise<ChatModel> {
	const threads = values.threads === undefined ? undefined : numberOption(values, "threads", 0, { min: 1, integer: true });
	return loadModel(stringOption(values, "model"), {
		executionProvider: choiceOption<ExecutionProviderRequest>(values, "execution-provider", ["auto", "cpu", "cuda"], "auto"),
		...(threads !== undefined ? { threads } : {}),
		...extra,
	});
}

/** Whether prompts go through the chat template: --chat forces it, --no-chat-template turns it off, else when the model has one. */
function useChat(values: CliValues, model: ChatModel): boolean {
	if (values.chat && values["no-chat-template"]) throw new ConfigError("--chat and --no-chat-template contradict each other");
	if (values["no-chat-template"]) return false;
	if (values.chat && model.chatTemplate === undefined) throw new ConfigError(`--chat: ${model.files.tokenizerConfig} has no chat_template`);
	return model.chatTemplate !== undefined;
}

const PROMPT_FIELDS = ["messages", "prompt", "query", "query_en", "instruction"];

function isMessages(value: unknown): value is ChatMessage[] {
	return Array.isArray(value) && value.every((m) => m && typeof m === "object" && ["system", "user", "assistant"].includes((m as ChatMessage).role) && typeof (m as ChatMessage).content === "string");
}

/** The prompt of a record: the named field, or the first of PROMPT_FIELDS present; a string or chat messages. */
function promptOf(record: Record<string, unknown>, field: string | undefined): { prompt: PromptInput } | { error: string } {
	const name = field ?? PROMPT_FIELDS.find((f) => record[f] !== undefined);
	if (name === undefined) return { error: `no prompt field (looked for ${PROMPT_FIELDS.join(", ")}; choose one with --prompt-field)` };
	const value = record[name];
	if (value === undefined) return { error: `missing field "${name}"` };
	if (typeof value === "string") return value === "" ? { error: `field "${name}" is empty` } : { prompt: value };
	if (isMessages(value)) return { prompt: value };
	return { error: `field "${name}" must be a string or a list of {role, content} messages` };
}

/** The reader's check of a record's prompt (a reason string rejects the line). */
function promptError(record: Record<string, unknown>, field: string | undefined): string | undefined {
	const found = promptOf(record, field);
	return "error" in found ? found.error : undefined;
}

/** The prompt of a record that passed promptError. */
function promptFor(record: Record<string, unknown>, field: string | undefined): PromptInput {
	const found = promptOf(record, field);
	if ("error" in found) throw new ConfigError(found.error);
	return found.prompt;
}

/**
 * Opens --out (or stdout). `settings` decide the records (model, prompts, sampling …): they are kept in
 * `<out>.settings.json`, and --resume refuses other ones, naming each change.
 */
async function openOutput<T>(
	values: CliValues,
	context: CliContext,
	settings: object,
): Promise<{ write(record: T): Promise<void>; flush(): Promise<void>; finish(): Promise<void>; done: number; complete: boolean }> {
	const out = optionalString(values, "out");
	if (out === undefined) {
		if (values.resume) throw new ConfigError("--resume needs --out");
		return {
			write: async (record) => void context.stdout.write(`${JSON.stringify(record)}\n`),
			flush: async () => {},
			finish: async () => {},
			done: 0,
			complete: false,
		};
	}
	const settingsPath = `${out}.settings.json`;
	if (values.resume) assertSameSettings(await readRunSettings(settingsPath), settings, { output: out });
	const writer = await JsonlWriter.open<T>(out, { resume: Boolean(values.resume), overwrite: Boolean(values.force) });
	if (!writer.alreadyComplete) await writeJsonAtomic(settingsPath, settings);
	return {
		write: (record) => writer.write(record),
		flush: () => writer.flush(),
		finish: async () => void (await writer.finish()),
		done: writer.resumedCount,
		complete: writer.alreadyComplete,
	};
}

interface JobRecord {
	value: Record<string, unknown>;
	prompt: PromptInput;
	file: string;
	line: number;
}

/** Reasons of records the model refused (a prompt over its context …), as the rejects file keeps them. */
const MODEL_REFUSED = "refused by the model";

/** Records the model refused in an earlier run: counted with the written ones to find where a resume starts. */
async function modelRefusals(rejectsPath: string): Promise<number> {
	const text = await readFile(rejectsPath, "utf8").catch(() => "");
	return text.split("\n").filter((line) => line.includes(`"reason":"${MODEL_REFUSED}:`)).length;
}

/** The record index an engine InputError names (`prompts[3]`, `pairs[3].prompt`), or undefined. */
function refusedIndex(error: unknown): number | undefined {
	if (!(error instanceof InputError) && !(TransllmError.isInstance(error) && error.code === "E_INPUT")) return undefined;
	const match = /^(?:prompts|pairs)\[(\d+)\]/.exec((error as InputError).field ?? "");
	return match ? Number(match[1]) : undefined;
}

/** Reads the input in chunks (a few batches each), skipping records already in a resumed output. */
async function* chunks(
	input: string,
	policy: "error" | "skip",
	skip: number,
	validate: (record: Record<string, unknown>) => string | undefined,
	prompt: (record: Record<string, unknown>) => PromptInput,
	size: number,
	rejects: RejectsWriter | undefined,
): AsyncGenerator<JobRecord[]> {
	let chunk: JobRecord[] = [];
	for await (const { value, file, line } of readJsonl(input, { onBadRecord: policy, ...(rejects ? { rejects } : {}), validate, skipRecords: skip })) {
		chunk.push({ value, prompt: prompt(value), file, line });
		if (chunk.length >= size) {
			yield chunk;
			chunk = [];
		}
	}
	if (chunk.length > 0) yield chunk;
}

async function runJob<T>(
	values: CliValues,
	context: CliContext,
	label: string,
	model: ChatModel,
	input: string,
	settings: object,
	validate: (record: Record<string, unknown>) => string | undefined,
	prompt: (record: Record<string, unknown>) => PromptInput,
	process: (records: JobRecord[]) => Promise<T[]>,
): Promise<number> {
	// Options first: a bad flag must not leave a .partial output behind.
	const policy = choiceOption(values, "on-bad-record", ["error", "skip"] as const, "error");
	const batchSize = numberOption(values, "batch-size", 8, { min: 1, integer: true });
	const output = await openOutput<T>(values, context, { input, model: stringOption(values, "model"), ...settings });
	if (output.complete) {
		context.stderr.write(`${optionalString(values, "out")} is already complete (${output.done} records)\n`);
		return 0;
	}
	const out = optionalString(values, "out");
	const rejects = policy === "skip" ? await RejectsWriter.open(out ?? `${input}.${label}`, { resume: Boolean(values.resume) }) : undefined;
	const progress = createProgress({ label, unit: "records", initial: output.done, silent: Boolean(values.quiet), stream: context.stderr });
	try {
		// Records the model refuses are set aside (skip) or stop the job naming file:line (error). Outputs before a
		// refusal are flushed before it is recorded, so written plus refused records are always a prefix of the input.
		const resumeAt = output.done + (values.resume && rejects ? await modelRefusals(rejects.path) : 0);
		let written = 0;
		for await (const chunk of chunks(input, policy, resumeAt, validate, prompt, batchSize * 8, rejects)) {
			let pending = chunk;
			while (pending.length > 0) {
				let results: T[];
				try {
					results = await process(pending);
				} catch (error) {
					const index = refusedIndex(error);
					const record = index === undefined ? undefined : pending[index];
					if (index === undefined || record === undefined) throw error;
					const reason = (error as InputError).reason ?? (error as Error).message;
					if (!rejects) throw new InputError(reason, { file: record.file, line: record.line });
					for (const done of await process(pending.slice(0, index))) {
						await output.write(done);
						written += 1;
					}
					await output.flush();
					await rejects.reject({ file: record.file, line: record.line, reason: `${MODEL_REFUSED}: ${reason}`, raw: JSON.stringify(record.value) });
					pending = pending.slice(index + 1);
					continue;
				}
				for (const record of results) {
					await output.write(record);
					written += 1;
				}
				pending = [];
			}
			await output.flush();
			progress.tick(chunk.length);
		}
		// Nothing produced is a failure, not an empty success: an empty input, or every record refused.
		if (output.done + written === 0) {
			throw new InputError(rejects?.count ? `every record was rejected (${rejects.count}, see ${rejects.path}): nothing was produced` : "the input holds no record: nothing was produced", { file: input });
		}
		await output.finish();
	} finally {
		await rejects?.close();
	}
	progress.done(`${label}: ${progress.completed} records on ${model.executionProvider.name} (${model.executionProvider.reason})${rejects?.count ? `; ${rejects.count} rejected → ${rejects.path}` : ""}`);
	return 0;
}

export const runtimeCommands: CommandTable = {
	generate: {
		description: "Generate responses with an ONNX chat model (batched; greedy by default, as TransLLM's recovery KD)",
		options: {
			...modelOptions,
			prompt: { type: "string", multiple: true, valueName: "<text>", description: "A prompt; with one prompt the generated text streams to stdout" },
			input: { type: "string", valueName: "<file.jsonl>", description: "Queries, one JSON object per line (.jsonl or .jsonl.gz)" },
			"prompt-field": { type: "string", valueName: "<name>", description: `Field holding the prompt: text or chat messages (default: the first of ${PROMPT_FIELDS.join(", ")})` },
			"output-field": { type: "string", default: "response", valueName: "<name>", description: "Field the generated text is written to (the input record's fields are kept)" },
			"max-new-tokens": { type: "string", default: "256", valueName: "<n>", description: "Tokens generated at most per prompt" },
			temperature: { type: "string", default: "0", valueName: "<t>", description: "0 = greedy search (TransLLM App. A.1); > 0 samples" },
			"top-k": { type: "string", default: "0", valueName: "<k>", description: "Sample among the k most likely tokens (0 = all)" },
			"top-p": { type: "string", default: "1", valueName: "<p>", description: "Nucleus sampling mass (1 = off)" },
			"repetition-penalty": { type: "string", default: "1", valueName: "<r>", description: "CTRL repetition penalty (1 = off)" },
			seed: { type: "string", default: "0", valueName: "<n>", description: "Sampling seed (each prompt has its own stream: results do not depend on batching)" },
			stop: { type: "string", multiple: true, valueName: "<text>", description: "Stop string; the text ends before it" },
			"stop-token-id": { type: "string", multiple: true, valueName: "<id>", description: "Stop token id, besides the model's EOS (finish reason stop)" },
			"decode-loop": { type: "string", default: "host", valueName: "host|graph", description: "graph: decoding inside an ONNX Loop (greedy, or sampling seeded per prompt), N tokens per run, KV cache kept in the session" },
			"chunk-steps": { type: "string", default: "16", valueName: "<n>", description: "Tokens per run with --decode-loop graph" },
		},
		details: [
			"Output records keep the input's fields and add <output-field>, finish_reason (eos|stop|length), prompt_tokens,",
			"generated_tokens and execution_provider {name, reason}.",
			"Example: transllm generate --model ./llama-2-7b-chat-onnx --input queries.jsonl --out kd.jsonl --batch-size 16",
		].join("\n"),
		async run({ values }, context) {
			const prompts = Array.isArray(values.prompt) ? values.prompt : [];
			const input = optionalString(values, "input");
			if ((prompts.length > 0) === (input !== undefined)) throw new ConfigError("give either --prompt (repeatable) or --input <file.jsonl>");
			const decodeLoop = choiceOption<DecodeLoop>(values, "decode-loop", ["host", "graph"]);
			const chunkSteps = numberOption(values, "chunk-steps", 16, { min: 1, integer: true });
			const system = optionalString(values, "system");
			// Every flag is checked before the model loads (which takes minutes for a 7B model).
			const sampling = {
				maxNewTokens: numberOption(values, "max-new-tokens", 256, { min: 0, integer: true }),
				temperature: numberOption(values, "temperature", 0, { min: 0 }),
				topK: numberOption(values, "top-k", 0, { min: 0, integer: true }),
				topP: numberOption(values, "top-p", 1, { min: 0, max: 1 }),
				repetitionPenalty: numberOption(values, "repetition-penalty", 1, { min: 0 }),
				seed: numberOption(values, "seed", 0, { integer: true }),
				stopStrings: Array.isArray(values.stop) ? values.stop : [],
				stopTokenIds: listOption(values, "stop-token-id").map((id) => {
					const n = Number(id);
					if (!Number.isInteger(n) || n < 0) throw new ConfigError(`--stop-token-id must be a token id, got "${id}"`);
					return n;
				}),
				batchSize: numberOption(values, "batch-size", 8, { min: 1, integer: true }),
				...(system !== undefined ? { system } : {}),
			};
			const model = await openModel(values, { decodeLoop, chunkSteps });
			try {
				const base = { ...sampling, chat: useChat(values, model) };
				if (input === undefined) {
					const results = await model.generate({ ...base, prompts, onToken: prompts.length === 1 ? (_i, text) => void context.stdout.write(text) : undefined });
					if (prompts.length === 1) context.stdout.write("\n");
					else for (const result of results) context.stdout.write(`${result.text}\n`);
					for (const result of results) context.stderr.write(`[${result.finishReason}, ${result.tokenIds.length} tokens, ${result.executionProvider.name}: ${result.executionProvider.reason}]\n`);
					return 0;
				}
				const field = optionalString(values, "prompt-field");
				const outputField = stringOption(values, "output-field");
				return await runJob(
					values,
					context,
					"generate",
					model,
					input,
					{ ...sampling, batchSize: undefined, chat: base.chat, promptField: field ?? null, outputField },
					(record) => promptError(record, field),
					(record) => promptFor(record, field),
					async (records) => {
						const results = await model.generate({ ...base, prompts: records.map((r) => r.prompt) });
						return records.map((record, i) => {
							const result = results[i];
							if (!result) throw new Error("generate returned fewer results than prompts");
							return {
								...record.value,
								[outputField]: result.text,
								finish_reason: result.finishReason,
								prompt_tokens: result.promptTokens,
								generated_tokens: result.tokenIds.length,
								execution_provider: result.executionProvider,
							};
						});
					},
				);
			} finally {
				await model.dispose();
			}
		},
	},
	score: {
		description: "Score responses: log P(response | prompt) per record, computed in the graph (TransLLM's forgetting metric, Table 8)",
		options: {
			...modelOptions,
			input: { type: "string", required: true, valueName: "<file.jsonl>", description: "Pairs, one JSON object per line with a prompt and a response" },
			"prompt-field": { type: "string", default: "prompt", valueName: "<name>", description: "Field holding the prompt (text or chat messages)" },
			"response-field": { type: "string", default: "response", valueName: "<name>", description: "Field holding the response to score" },
			"per-token": { type: "boolean", description: "Also write token_logprobs (one log-probability per response token)" },
			"append-eos": { type: "boolean", description: "Score the model's EOS token after the response too (the response's end)" },
		},
		details: [
			"Output records keep the input's fields and add logprob_sum, logprob_mean (per token), tokens and execution_provider {name, reason}.",
			"The response is tokenised on its own (no BOS) and appended to the prompt's tokens.",
		].join("\n"),
		async run({ values }, context) {
			const input = stringOption(values, "input");
			const promptField = stringOption(values, "prompt-field");
			const responseField = stringOption(values, "response-field");
			const system = optionalString(values, "system");
			const batchSize = numberOption(values, "batch-size", 8, { min: 1, integer: true });
			const model = await openModel(values);
			try {
				const chat = useChat(values, model);
				return await runJob(
					values,
					context,
					"score",
					model,
					input,
					{ chat, promptField, responseField, system: system ?? null, appendEos: Boolean(values["append-eos"]), perToken: Boolean(values["per-token"]) },
					(record) => {
						const error = promptError(record, promptField);
						if (error !== undefined) return error;
						const response = record[responseField];
						if (typeof response !== "string" || response === "") return `field "${responseField}" must be a non-empty string`;
						return undefined;
					},
					(record) => promptFor(record, promptField),
					async (records) => {
						const scores = await model.score({
							pairs: records.map((r) => ({ prompt: r.prompt, response: r.value[responseField] as string })),
							batchSize,
							chat,
							appendEos: Boolean(values["append-eos"]),
							...(system !== undefined ? { system } : {}),
						});
						return records.map((record, i) => {
							const score = scores[i];
							if (!score) throw new Error("score returned fewer results than pairs");
							return {
								...record.value,
								logprob_sum: score.sum,
								logprob_mean: score.mean,
								tokens: score.tokens,
								...(values["per-token"] ? { token_logprobs: Array.from(score.tokenLogprobs) } : {}),
								execution_provider: score.executionProvider,
							};
						});
					},
				);
			} finally {
				await model.dispose();
			}
		},
	},
	...exportCommands,
};
