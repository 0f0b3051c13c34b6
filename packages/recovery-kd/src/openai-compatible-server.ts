import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import { timingSafeEqual } from "node:crypto";
import { TransllmError } from "@transllm/core";
import { listen, readBody } from "./fault-injection.js";
import type { RunningServer } from "./fault-injection.js";
import type { KdChatMessage } from "./generation-backend.js";
import { openAiFinishReason } from "./generative-model.js";
import type { GenerativeModel, GenerativeModelResult } from "./generative-model.js";
import { MicroBatcher } from "./micro-batcher.js";

export interface OpenAiServerOptions {
	/** The model behind the API: a loaded @transllm/runtime ChatModel. */
	model: GenerativeModel;
	/** The name clients send as `model` and /v1/models lists. */
	modelName: string;
	/** When set, requests need `Authorization: Bearer <apiKey>`. */
	apiKey?: string;
	/** Concurrent requests batched into one generate call (default 8). */
	maxBatch?: number;
	/** max_tokens when a request gives none (default 512). */
	defaultMaxTokens?: number;
	host?: string;
	port?: number;
	/** Called for each finished request (method, path, status, ms): a log line without bodies or keys. */
	onRequest?: (entry: { method: string; path: string; status: number; ms: number }) => void;
}

export interface OpenAiCompatibleServer extends RunningServer {
	/** The API base URL clients use: `<url>/v1`. */
	baseUrl: string;
	/** Requests served and generate calls made (a call can serve a batch of requests). */
	readonly stats: { requests: number; generateCalls: number; batchedPrompts: number };
}

interface SamplingRequest {
	prompt: string | readonly KdChatMessage[];
	maxNewTokens: number;
	temperature: number;
	topP?: number;
	seed?: number;
	stop: string[];
	onToken?: (text: string) => void;
}

class HttpError extends Error {
	constructor(
		readonly status: number,
		message: string,
		readonly type = "invalid_request_error",
		readonly param: string | null = null,
		readonly errorCode: string | null = null,
	) {
		super(message);
	}
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
	const text = JSON.stringify(body);
	response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
	response.end(text);
}

function number(value: unknown, name: string, fallback: number | undefined, range: [number, number]): number | undefined {
	if (value === undefined || value === null) return fallback;
	if (typeof value !== "number" || !Number.isFinite(value) || value < range[0] || value > range[1]) {
		throw new HttpError(400, `'${name}' must be a number in [${range[0]}, ${range[1]}], got ${JSON.stringify(value)}`, "invalid_request_error", name);
	}
	return value;
}

function messagesOf(value: unknown): KdChatMessage[] {
	if (!Array.isArray(value) || value.length === 0) throw new HttpError(400, "'messages' must be a non-empty array", "invalid_request_error", "messages");
	return value.map((message, i) => {
		const m = message as { role?: unknown; content?: unknown };
		if (m.role !== "system" && m.role !== "user" && m.role !== "assistant") throw new HttpError(400, `messages[${i}].role must be system, user or assistant`, "invalid_request_error", `messages[${i}].role`);
		// Content is a string or a list of parts, of which only text parts are understood.
		let content: string;
		if (typeof m.content === "string") content = m.content;
		else if (Array.isArray(m.content)) {
			content = m.content
				.map((part: { type?: unknown; text?: unknown }) => {
					if (part?.type !== "text" || typeof part.text !== "string") throw new HttpError(400, `messages[${i}].content: only text parts are supported`, "invalid_request_error", `messages[${i}].content`);
					return part.text;
				})
				.join("");
		} else throw new HttpError(400, `messages[${i}].content must be a string`, "invalid_request_error", `messages[${i}].content`);
		return { role: m.role, content };
	});
}

function stopOf(value: unknown): string[] {
	if (value === undefined || value === null) return [];
	if (typeof value === "string") return [value];
	if (Array.isArray(value) && value.every((s) => typeof s === "string")) return value as string[];
	throw new HttpError(400, "'stop' must be a string or a list of strings", "invalid_request_error", "stop");
}

/**
 * An OpenAI-compatible HTTP server (`/v1/models`, `/v1/chat/completions`, `/v1/completions`, JSON or SSE
 * streaming) over a local @transllm/runtime model — what `transllm serve` runs. Chat requests are rendered with
 * the model's own chat template; concurrent requests with the same sampling settings share a forward pass.
 */
export async function startOpenAiCompatibleServer(options: OpenAiServerOptions): Promise<OpenAiCompatibleServer> {
	const stats = { requests: 0, generateCalls: 0, batchedPrompts: 0 };
	const defaultMaxTokens = options.defaultMaxTokens ?? 512;
	let counter = 0;
	const batcher = new MicroBatcher<SamplingRequest, GenerativeModelResult>(
		async (batch) => {
			const first = batch[0] as SamplingRequest;
			stats.generateCalls += 1;
			stats.batchedPrompts += batch.length;
			return options.model.generate({
				prompts: batch.map((r) => r.prompt),
				maxNewTokens: first.maxNewTokens,
				temperature: first.temperature,
				...(first.topP !== undefined ? { topP: first.topP } : {}),
				...(first.seed !== undefined ? { seed: first.seed } : {}),
				...(first.stop.length ? { stopStrings: first.stop } : {}),
				batchSize: batch.length,
				...(batch.some((r) => r.onToken) ? { onToken: (index: number, text: string) => batch[index]?.onToken?.(text) } : {}),
			});
		},
		{
			maxBatch: options.maxBatch ?? 8,
			keyOf: (r) => JSON.stringify([r.maxNewTokens, r.temperature, r.topP, r.seed, r.stop]),
		},
	);

	const authorized = (request: IncomingMessage): boolean => {
		if (options.apiKey === undefined) return true;
		const header = request.headers.authorization ?? "";
		const given = Buffer.from(header.replace(/^Bearer\s+/i, ""));
		const expected = Buffer.from(options.apiKey);
		return given.length === expected.length && timingSafeEqual(given, expected);
	};

	const sampling = (body: Record<string, unknown>, prompt: SamplingRequest["prompt"]): SamplingRequest => {
		if (body.n !== undefined && body.n !== 1) throw new HttpError(400, "only n = 1 is supported", "invalid_request_error", "n");
		const maxTokens = number(body.max_completion_tokens ?? body.max_tokens, "max_tokens", defaultMaxTokens, [1, 1_000_000]) as number;
		return {
			prompt,
			maxNewTokens: Math.floor(maxTokens),
			// OpenAI's default temperature is 1; clients that want greedy decoding send 0.
			temperature: number(body.temperature, "temperature", 1, [0, 2]) as number,
			topP: number(body.top_p, "top_p", undefined, [0, 1]),
			seed: number(body.seed, "seed", undefined, [-(2 ** 53), 2 ** 53]),
			stop: stopOf(body.stop),
		};
	};

	const stream = (response: ServerResponse): ((data: unknown) => void) => {
		response.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" });
		return (data) => {
			if (!response.destroyed) response.write(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
		};
	};

	const chatCompletion = async (body: Record<string, unknown>, response: ServerResponse): Promise<void> => {
		const request = sampling(body, messagesOf(body.messages));
		const id = `chatcmpl-${++counter}`;
		const created = Math.floor(Date.now() / 1000);
		const base = { id, created, model: options.modelName };
		if (body.stream === true) {
			const send = stream(response);
			send({ ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null, logprobs: null }] });
			request.onToken = (text) => send({ ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: text }, finish_reason: null, logprobs: null }] });
			const result = await batcher.submit(request);
			send({ ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta: {}, finish_reason: openAiFinishReason(result.finishReason), logprobs: null }] });
			if ((body.stream_options as { include_usage?: boolean } | undefined)?.include_usage) send({ ...base, object: "chat.completion.chunk", choices: [], usage: usageOf(result) });
			send("[DONE]");
			response.end();
			return;
		}
		const result = await batcher.submit(request);
		sendJson(response, 200, {
			...base,
			object: "chat.completion",
			choices: [{ index: 0, message: { role: "assistant", content: result.text }, finish_reason: openAiFinishReason(result.finishReason), logprobs: null }],
			usage: usageOf(result),
		});
	};

	const completion = async (body: Record<string, unknown>, response: ServerResponse): Promise<void> => {
		const prompts = typeof body.prompt === "string" ? [body.prompt] : Array.isArray(body.prompt) && body.prompt.every((p) => typeof p === "string") ? (body.prompt as string[]) : undefined;
		if (!prompts || prompts.length === 0) throw new HttpError(400, "'prompt' must be a string or a non-empty list of strings", "invalid_request_error", "prompt");
		// OpenAI's default for /v1/completions is 16 tokens.
		const requests = prompts.map((prompt) => sampling({ max_tokens: 16, ...body }, prompt));
		const id = `cmpl-${++counter}`;
		const base = { id, created: Math.floor(Date.now() / 1000), model: options.modelName };
		if (body.stream === true) {
			const send = stream(response);
			requests.forEach((request, index) => {
				request.onToken = (text) => send({ ...base, object: "text_completion", choices: [{ index, text, finish_reason: null, logprobs: null }] });
			});
			const results = await Promise.all(requests.map((request) => batcher.submit(request)));
			results.forEach((result, index) => send({ ...base, object: "text_completion", choices: [{ index, text: "", finish_reason: openAiFinishReason(result.finishReason), logprobs: null }] }));
			send("[DONE]");
			response.end();
			return;
		}
		const results = await Promise.all(requests.map((request) => batcher.submit(request)));
		const usage = results.map(usageOf).reduce((a, b) => ({
			prompt_tokens: a.prompt_tokens + b.prompt_tokens,
			completion_tokens: a.completion_tokens + b.completion_tokens,
			total_tokens: a.total_tokens + b.total_tokens,
		}));
		sendJson(response, 200, {
			...base,
			object: "text_completion",
			choices: results.map((result, index) => ({ index, text: result.text, finish_reason: openAiFinishReason(result.finishReason), logprobs: null })),
			usage,
		});
	};

	const server = createServer((request, response) => {
		const started = Date.now();
		const path = new URL(request.url ?? "/", "http://loopback").pathname.replace(/\/+$/, "");
		stats.requests += 1;
		response.on("finish", () => options.onRequest?.({ method: request.method ?? "", path, status: response.statusCode, ms: Date.now() - started }));
		void (async () => {
			if (!authorized(request)) throw new HttpError(401, "Incorrect API key provided.", "invalid_request_error", null, "invalid_api_key");
			if (request.method === "GET" && path === "/v1/models") {
				return sendJson(response, 200, { object: "list", data: [{ id: options.modelName, object: "model", created: 0, owned_by: "transllm" }] });
			}
			if (request.method === "GET" && path === "/health") return sendJson(response, 200, { status: "ok" });
			if (request.method !== "POST" || (path !== "/v1/chat/completions" && path !== "/v1/completions")) throw new HttpError(404, `no route ${request.method} ${path}`, "invalid_request_error", null, "not_found");
			let body: Record<string, unknown>;
			try {
				const parsed: unknown = JSON.parse(await readBody(request));
				if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
				body = parsed as Record<string, unknown>;
			} catch {
				throw new HttpError(400, "the request body must be a JSON object");
			}
			if (body.model !== undefined && body.model !== options.modelName) {
				throw new HttpError(404, `The model \`${String(body.model)}\` does not exist; this server serves \`${options.modelName}\``, "invalid_request_error", "model", "model_not_found");
			}
			if (path === "/v1/chat/completions") await chatCompletion(body, response);
			else await completion(body, response);
		})().catch((error: unknown) => {
			// The model's refusal of one input (an empty prompt …) is the client's error; anything else is the server's.
			const http =
				error instanceof HttpError
					? error
					: TransllmError.isInstance(error) && (error.code === "E_INPUT" || error.code === "E_CONFIG")
						? new HttpError(400, error.message)
						: new HttpError(500, (error as Error)?.message ?? String(error), "server_error");
			const body = { error: { message: http.message, type: http.type, param: http.param, code: http.errorCode } };
			if (!response.headersSent) sendJson(response, http.status, body);
			else {
				// A stream already under way ends with an error event, as OpenAI's does.
				if (!response.destroyed) response.write(`data: ${JSON.stringify(body)}\n\n`);
				response.end();
			}
		});
	});
	const running = await listen(server, options);
	return { ...running, baseUrl: `${running.url}/v1`, stats };
}

function usageOf(result: GenerativeModelResult): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
	const prompt = result.promptTokens ?? 0;
	return { prompt_tokens: prompt, completion_tokens: result.tokenIds.length, total_tokens: prompt + result.tokenIds.length };
}
