import OpenAI from "openai";
import { ConfigError } from "@transllm/core";
import type { GenerationBackend, GenerationParams, GenerationResult, KdChatMessage } from "./generation-backend.js";
import { RemoteError, isFatalStatus, isRetryableStatus, parseRetryAfter, withRetries } from "./retry.js";
import type { RetryPolicy } from "./retry.js";
import { redactSecrets, redactUrl } from "./secrets.js";

export interface OpenAiBackendOptions {
	/** Base URL of the OpenAI-compatible API (`http://host:8000/v1`; a URL without a path gets `/v1`). */
	endpoint: string;
	/** Model name the server knows (vLLM `--served-model-name`, Ollama tag …). */
	model: string;
	/** API key (from the environment: see OPENAI_KEY_VARIABLES); local servers usually need none. */
	apiKey?: string;
	/** Requests in flight at once (default 8). */
	concurrency?: number;
	/** Timeout of one request in ms (default 300 000: Node's fetch gives up on a silent body after 5 minutes anyway). */
	timeoutMs?: number;
	/** Retries with backoff on 429, 5xx, timeouts, network errors and malformed bodies. */
	retry?: RetryPolicy;
	/** A fetch implementation (tests, proxies). */
	fetch?: typeof fetch;
}

/** Normalises an endpoint to the API base URL the official client expects. */
export function apiBaseUrl(endpoint: string): string {
	let url: URL;
	try {
		url = new URL(endpoint);
	} catch {
		throw new ConfigError(`--endpoint must be a URL such as http://127.0.0.1:8000/v1, got "${redactUrl(endpoint)}"`);
	}
	if (url.protocol !== "http:" && url.protocol !== "https:") throw new ConfigError(`--endpoint must be http(s), got ${url.protocol}`);
	if (url.pathname === "/" || url.pathname === "") url.pathname = "/v1";
	return url.toString().replace(/\/$/, "");
}

/** Maps an error of the official client to a RemoteError that says whether to retry, with no key in it. */
export function toRemoteError(error: unknown, secrets: readonly (string | undefined)[]): RemoteError {
	if (RemoteError.isRemote(error)) return error;
	const message = redactSecrets(error instanceof Error ? error.message : String(error), secrets);
	if (error instanceof OpenAI.APIConnectionTimeoutError) return new RemoteError(`request timed out: ${message}`, { retryable: true });
	if (error instanceof OpenAI.APIConnectionError) return new RemoteError(`connection failed: ${message}`, { retryable: true });
	if (error instanceof OpenAI.APIError && typeof error.status === "number") {
		const retryAfter = parseRetryAfter(error.headers?.get?.("retry-after"));
		return new RemoteError(`HTTP ${error.status}: ${message}`, {
			status: error.status,
			retryable: isRetryableStatus(error.status),
			fatal: isFatalStatus(error.status),
			retryAfterSeconds: retryAfter,
		});
	}
	// A body that is not the JSON the client expects (a proxy's HTML error page …) is worth another try.
	if (error instanceof SyntaxError) return new RemoteError(`malformed response: ${message}`, { retryable: true });
	return new RemoteError(message, { retryable: false });
}

/**
 * Generation through any OpenAI-compatible chat endpoint (vLLM, TGI, llama.cpp server, Ollama, `transllm serve`)
 * with the official `openai` client. The server applies the model's chat template. The client's own retries are
 * off: ours back off with jitter, honour Retry-After, count retries and also retry malformed bodies.
 */
export function createOpenAiGenerationBackend(options: OpenAiBackendOptions): GenerationBackend {
	const baseURL = apiBaseUrl(options.endpoint);
	const secrets = [options.apiKey];
	const client = new OpenAI({
		baseURL,
		// Servers without auth (vLLM's default) ignore the header; the client insists on some key.
		apiKey: options.apiKey ?? "no-key",
		timeout: options.timeoutMs ?? 300_000,
		maxRetries: 0,
		fetch: options.fetch,
	});
	let retries = 0;
	// After a fatal answer (bad key, unknown model) no further request is sent: they would all fail the same way.
	let fatal: RemoteError | undefined;
	const backend: GenerationBackend = {
		kind: "openai-compatible",
		model: options.model,
		concurrency: options.concurrency ?? 8,
		location: redactUrl(baseURL),
		get retries() {
			return retries;
		},
		async generate(messages: KdChatMessage[], params: GenerationParams, signal?: AbortSignal): Promise<GenerationResult> {
			return withRetries(
				async () => {
					if (fatal) throw fatal;
					let response;
					try {
						response = await client.chat.completions.create(
							{
								model: options.model,
								messages,
								temperature: params.temperature,
								max_tokens: params.max_tokens,
								...(params.top_p !== undefined ? { top_p: params.top_p } : {}),
								...(params.seed !== undefined ? { seed: params.seed } : {}),
							},
							{ signal },
						);
					} catch (error) {
						if (signal?.aborted) throw error;
						const remote = toRemoteError(error, secrets);
						if (remote.fatal) fatal = remote;
						throw remote;
					}
					const choice = (response as { choices?: unknown }).choices;
					const first = Array.isArray(choice) ? (choice[0] as { message?: { content?: unknown }; finish_reason?: unknown } | undefined) : undefined;
					if (!first || typeof first.message?.content !== "string") {
						throw new RemoteError(`malformed response from ${redactUrl(baseURL)}: no choices[0].message.content string`, { retryable: true });
					}
					const usage = (response as { usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } }).usage;
					return {
						text: first.message.content,
						finishReason: typeof first.finish_reason === "string" ? first.finish_reason : "unknown",
						...(typeof usage?.prompt_tokens === "number" && typeof usage.completion_tokens === "number"
							? { usage: { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens } }
							: {}),
					};
				},
				{
					...options.retry,
					signal,
					onRetry: () => {
						retries += 1;
					},
				},
			);
		},
		async close() {},
	};
	return backend;
}
