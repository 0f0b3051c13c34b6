import { readFile } from "node:fs/promises";
import { basename, resolve } from "node:path";
import OpenAI from "openai";
import { ConfigError, TransllmError } from "@transllm/core";
import { apiBaseUrl, createLocalGenerationBackend, createOpenAiGenerationBackend, openAiFinishReason, toRemoteError, withRetries } from "@transllm/recovery-kd";
import type { GenerationBackend, GenerationParams, GenerationResult, OpenAiBackendOptions } from "@transllm/recovery-kd";
import { BUILTIN_CHAT_TEMPLATES, renderChat } from "@transllm/tcot";
import type { ChatFamily, ChatMessage } from "@transllm/tcot";

/**
 * A model that answers benchmark questions: chat generation through a recovery-KD backend (local ONNX model or any
 * OpenAI-compatible endpoint, with its retries), plus, when the chat template is known, raw-text continuation of a
 * rendered prompt — what the TCOT fallback needs (force the next marker and let the model go on).
 */
export interface AnswerModel {
	backend: GenerationBackend;
	/** Renders chat messages with the model's template (generation prompt appended). */
	render?: (messages: readonly ChatMessage[]) => string;
	/** Continues a rendered prompt as raw text (no template applied again). */
	continueText?: (prompt: string, params: GenerationParams, signal?: AbortSignal) => Promise<GenerationResult>;
	close(): Promise<void>;
}

// A rendered template starts with the BOS text (`<s>`); raw-text prompts get BOS from the tokenizer, so it is cut.
function withoutBos(prompt: string, bos: string | undefined): string {
	return bos && prompt.startsWith(bos) ? prompt.slice(bos.length) : prompt;
}

function bosOf(config: Record<string, unknown> | undefined, family?: ChatFamily): string | undefined {
	const value = config?.bos_token;
	if (typeof value === "string") return value;
	if (typeof (value as { content?: unknown } | undefined)?.content === "string") return (value as { content: string }).content;
	return family ? BUILTIN_CHAT_TEMPLATES[family].bos_token : undefined;
}

/** A local model directory loaded with @transllm/runtime: chat through recovery-kd's local backend (batched), continuation through the runtime. */
export async function localAnswerModel(dir: string, options: { modelName?: string; batchSize?: number; executionProvider?: "auto" | "cpu" | "cuda" } = {}): Promise<AnswerModel> {
	const { loadModel } = await import("@transllm/runtime");
	const model = await loadModel(dir, { executionProvider: options.executionProvider ?? "auto" });
	const backend = createLocalGenerationBackend({
		model,
		modelName: options.modelName ?? basename(resolve(dir)),
		location: resolve(dir),
		batchSize: options.batchSize ?? 8,
		dispose: () => model.dispose(),
	});
	const config = model.tokenizerConfig;
	return {
		backend,
		render: (messages) => renderChat({ messages, chatTemplate: model.chatTemplate, tokenizerConfig: config, addGenerationPrompt: true }),
		continueText: async (prompt, params) => {
			const [result] = await model.generate({
				prompts: [withoutBos(prompt, bosOf(config))],
				maxNewTokens: params.max_tokens,
				temperature: params.temperature,
				...(params.seed !== undefined ? { seed: params.seed } : {}),
			});
			if (!result) throw new TransllmError("E_MODEL", "the runtime returned no result");
			return { text: result.text, finishReason: openAiFinishReason(result.finishReason) };
		},
		close: () => backend.close(),
	};
}

/**
 * The chat template of an endpoint's model, for the TCOT fallback: a built-in family (llama-2, llama-3, chatml,
 * mistral, gemma), a tokenizer_config.json, or a Jinja file.
 */
export async function loadChatTemplate(spec: string): Promise<{ chatTemplate?: string; tokenizerConfig?: Record<string, unknown>; family?: ChatFamily }> {
	if (spec in BUILTIN_CHAT_TEMPLATES) return { family: spec as ChatFamily };
	let text: string;
	try {
		text = await readFile(spec, "utf8");
	} catch (error) {
		throw new ConfigError(`--chat-template: "${spec}" is neither a built-in family (${Object.keys(BUILTIN_CHAT_TEMPLATES).join(", ")}) nor a readable file: ${(error as Error).message}`);
	}
	if (spec.endsWith(".json")) {
		const config = JSON.parse(text) as Record<string, unknown>;
		if (config.chat_template === undefined) throw new ConfigError(`--chat-template: ${spec} has no chat_template`);
		return { tokenizerConfig: config };
	}
	return { chatTemplate: text };
}

/**
 * A model behind an OpenAI-compatible endpoint: chat through recovery-kd's client (its backoff, Retry-After and
 * fatal-error handling), and — given the model's chat template — continuation through `/v1/completions` with the
 * same retry logic.
 */
export async function remoteAnswerModel(options: OpenAiBackendOptions & { chatTemplate?: string }): Promise<AnswerModel> {
	const backend = createOpenAiGenerationBackend(options);
	if (options.chatTemplate === undefined) return { backend, close: () => backend.close() };
	const template = await loadChatTemplate(options.chatTemplate);
	const client = new OpenAI({ baseURL: apiBaseUrl(options.endpoint), apiKey: options.apiKey ?? "no-key", timeout: options.timeoutMs ?? 300_000, maxRetries: 0, fetch: options.fetch });
	const bos = bosOf(template.tokenizerConfig, template.family);
	return {
		backend,
		render: (messages) => renderChat({ messages, ...template, addGenerationPrompt: true }),
		continueText: (prompt, params, signal) =>
			withRetries(
				async () => {
					let response;
					try {
						response = await client.completions.create({ model: options.model, prompt: withoutBos(prompt, bos), max_tokens: params.max_tokens, temperature: params.temperature }, { signal });
					} catch (error) {
						throw toRemoteError(error, [options.apiKey]);
					}
					const choice = response.choices?.[0];
					if (!choice || typeof choice.text !== "string") throw toRemoteError(new SyntaxError("no choices[0].text string"), []);
					return { text: choice.text, finishReason: choice.finish_reason ?? "unknown" };
				},
				{ ...options.retry, signal },
			),
		close: () => backend.close(),
	};
}
