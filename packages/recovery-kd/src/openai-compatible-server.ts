import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import { timingSafeEqual } from "node:crypto";
import { TransllmError } from "@transllm/core";
import { listen, readBody } from "./fault-injection.js";
import type { RunningServer } from "./fault-injection.js";
import type { KdChatMessage } from "./generation-backend.js";
import { openAiFinishReason } from "./generative-model.js";
import type { GenerativeModel, GenerativeModelResult } from "./generative-model.js";
import { renderChat } from "@transllm/tcot";
import { MicroBatcher } from "./micro-batcher.js";
import { TcotHistoryCache } from "./tcot-history-cache.js";
import { TcotResponder, detectTcotModel } from "./tcot-responder.js";
import type { PreparedTcotPrompt, TcotResponse } from "./tcot-responder.js";

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
	/**
	 * TCOT serving (`../shared/papers/000_1ce36f3811662daf.txt` Sec. 2.3): `"auto"` (default) when the model's
	 * vocabulary has the TCOT markers, `true` to require it, `false` to serve the raw output.
	 */
	tcot?: boolean | "auto" | TcotServeOptions;
	/** Largest request body in bytes (default 1 MiB); larger requests get 413. */
	maxBodyBytes?: number;
	/** Most choices per request (`n`, default 8). */
	maxChoices?: number;
	/**
	 * `continuous` (default when the model has submit(): a request joins the running batch at the next decode step,
	 * finished ones leave) or `micro` (requests gathered while the model is busy run as one batch, to the end).
	 */
	batching?: "continuous" | "micro";
}

export interface TcotServeOptions {
	/** Target language β (default: the model's only language-ID token). */
	lang?: string;
	/** Persist the English-history cache to this JSON file (loaded at start). */
	cacheFile?: string;
	/** Turns the history cache holds (default 10000, least recently used leave first). */
	cacheSize?: number;
	/** Share of max_tokens kept for the target answer (default 0.25; see TcotResponderOptions). */
	targetReserve?: number;
	/** Called with every prompt given to the model (answer, translation of an unknown turn, fallback continuation). */
	onPrompt?: (prompt: string, purpose: "answer" | "translate" | "continue") => void;
	/** Fail at start when the model is not a TCOT model (`--tcot`), instead of serving it plainly. */
	require?: boolean;
}

export interface OpenAiCompatibleServer extends RunningServer {
	/** The API base URL clients use: `<url>/v1`. */
	baseUrl: string;
	/** Requests served and generate calls made (a call can serve a batch of requests). */
	readonly stats: { requests: number; generateCalls: number; batchedPrompts: number };
	/** Whether the server answers as a TCOT model, and in which target language. */
	readonly tcot: { enabled: boolean; lang?: string };
}

interface SamplingRequest {
	prompt: string | readonly KdChatMessage[];
	maxNewTokens: number;
	temperature: number;
	topP?: number;
	seed?: number;
	stop: string[];
	/** Token ids that end generation (TCOT translation stops at the next marker). */
	stopTokenIds?: number[];
	/** A raw prompt that already holds its rendered chat template and BOS. */
	rendered?: boolean;
	/** Aborted when the client goes away: the sequence leaves the batch (continuous batching). */
	signal?: AbortSignal;
	/** Return the generated tokens' log-probabilities. */
	logprobs?: boolean;
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
				...(first.stopTokenIds?.length ? { stopTokenIds: first.stopTokenIds } : {}),
				...(first.rendered ? { addSpecialTokens: false } : {}),
				...(first.logprobs ? { logprobs: true } : {}),
				batchSize: batch.length,
				...(batch.some((r) => r.onToken) ? { onToken: (index: number, text: string) => batch[index]?.onToken?.(text) } : {}),
			});
		},
		{
			maxBatch: options.maxBatch ?? 8,
			keyOf: (r) => JSON.stringify([r.maxNewTokens, r.temperature, r.topP, r.seed, r.stop, r.stopTokenIds, r.rendered === true, r.logprobs === true]),
		},
	);

	const submit = options.model.submit?.bind(options.model);
	const continuous = (options.batching ?? "continuous") === "continuous" && submit !== undefined;
	/** One request: joins the model's running batch (continuous batching) or waits for a micro-batch. */
	const generateOne = (request: SamplingRequest): Promise<GenerativeModelResult> => {
		if (!continuous) return batcher.submit(request);
		stats.generateCalls += 1;
		stats.batchedPrompts += 1;
		const handle = (submit as NonNullable<GenerativeModel["submit"]>)({
			prompt: request.prompt,
			maxNewTokens: request.maxNewTokens,
			temperature: request.temperature,
			...(request.topP !== undefined ? { topP: request.topP } : {}),
			...(request.seed !== undefined ? { seed: request.seed } : {}),
			...(request.stop.length ? { stopStrings: request.stop } : {}),
			...(request.stopTokenIds?.length ? { stopTokenIds: request.stopTokenIds } : {}),
			...(request.rendered ? { addSpecialTokens: false } : {}),
			...(request.logprobs ? { logprobs: true } : {}),
			...(request.onToken ? { onToken: request.onToken } : {}),
		});
		request.signal?.addEventListener("abort", () => handle.cancel(), { once: true });
		return handle.result;
	};

	const tcotOption = options.tcot ?? "auto";
	const detected = detectTcotModel(options.model);
	if ((tcotOption === true || (typeof tcotOption === "object" && tcotOption.require === true)) && !detected.tcot) {
		throw new TransllmError("E_CONFIG", "--tcot: the model's vocabulary lacks the TCOT markers <EN>, <RESPONSE> and a language-ID token (was it extended with `tokenizer extend --langs` and trained on `tcot build` data?)");
	}
	const tcotSettings: TcotServeOptions = typeof tcotOption === "object" ? tcotOption : {};
	const responder =
		tcotOption !== false && detected.tcot && options.model.tokenizer
			? new TcotResponder({
					model: { tokenizer: options.model.tokenizer, chatTemplate: options.model.chatTemplate, tokenizerConfig: options.model.tokenizerConfig },
					cache: await TcotHistoryCache.open({ ...(tcotSettings.cacheFile !== undefined ? { file: tcotSettings.cacheFile } : {}), ...(tcotSettings.cacheSize !== undefined ? { maxEntries: tcotSettings.cacheSize } : {}) }),
					...(tcotSettings.lang !== undefined ? { lang: tcotSettings.lang } : {}),
					...(tcotSettings.targetReserve !== undefined ? { targetReserve: tcotSettings.targetReserve } : {}),
					...(tcotSettings.onPrompt ? { onPrompt: tcotSettings.onPrompt } : {}),
					generate: (request) =>
						generateOne({
							prompt: request.prompt,
							rendered: true,
							maxNewTokens: request.maxNewTokens,
							temperature: request.temperature,
							...(request.topP !== undefined ? { topP: request.topP } : {}),
							...(request.seed !== undefined ? { seed: request.seed } : {}),
							stop: request.stop,
							stopTokenIds: request.stopTokenIds,
							...(request.onToken ? { onToken: request.onToken } : {}),
							...(request.signal ? { signal: request.signal } : {}),
							...(request.logprobs ? { logprobs: true } : {}),
						}),
				})
			: undefined;
	const maxChoices = options.maxChoices ?? 8;

	const authorized = (request: IncomingMessage): boolean => {
		if (options.apiKey === undefined) return true;
		const header = request.headers.authorization ?? "";
		const given = Buffer.from(header.replace(/^Bearer\s+/i, ""));
		const expected = Buffer.from(options.apiKey);
		return given.length === expected.length && timingSafeEqual(given, expected);
	};

	/** Aborted when the client hangs up before its response is complete. */
	const hangUp = new WeakMap<Record<string, unknown>, AbortSignal>();
	const sampling = (body: Record<string, unknown>, prompt: SamplingRequest["prompt"], defaultMax = defaultMaxTokens): SamplingRequest => {
		const signal = hangUp.get(body);
		const maxTokens = number(body.max_completion_tokens ?? body.max_tokens, "max_tokens", defaultMax, [1, 1_000_000]) as number;
		return {
			prompt,
			maxNewTokens: Math.floor(maxTokens),
			// OpenAI's default temperature is 1; clients that want greedy decoding send 0.
			temperature: number(body.temperature, "temperature", 1, [0, 2]) as number,
			topP: number(body.top_p, "top_p", undefined, [0, 1]),
			seed: number(body.seed, "seed", undefined, [-(2 ** 53), 2 ** 53]),
			stop: stopOf(body.stop),
			...(signal ? { signal } : {}),
			...(logprobsOf(body) ? { logprobs: true } : {}),
		};
	};

	const stream = (response: ServerResponse): ((data: unknown) => void) => {
		response.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" });
		return (data) => {
			if (!response.destroyed) response.write(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
		};
	};

	/** `n`: choices per request; each choice draws from its own seed (seed + index) when a seed is given. */
	const choicesOf = (body: Record<string, unknown>): number => {
		const n = number(body.n, "n", 1, [1, maxChoices]) as number;
		if (!Number.isInteger(n)) throw new HttpError(400, `'n' must be an integer in [1, ${maxChoices}]`, "invalid_request_error", "n");
		return n;
	};
	const seedOf = (request: SamplingRequest, index: number): SamplingRequest => (request.seed !== undefined ? { ...request, seed: request.seed + index } : { ...request });
	const includeUsage = (body: Record<string, unknown>): boolean => (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;

	const chatCompletion = async (body: Record<string, unknown>, response: ServerResponse): Promise<void> => {
		const messages = messagesOf(body.messages);
		const request = sampling(body, messages);
		const n = choicesOf(body);
		const id = `chatcmpl-${++counter}`;
		const created = Math.floor(Date.now() / 1000);
		const base = { id, created, model: options.modelName };
		if (responder) return tcotChatCompletion(body, messages, request, n, base, response);
		const requests = Array.from({ length: n }, (_, index) => seedOf(request, index));
		if (body.stream === true) {
			const send = stream(response);
			requests.forEach((r, index) => {
				send({ ...base, object: "chat.completion.chunk", choices: [{ index, delta: { role: "assistant", content: "" }, finish_reason: null, logprobs: null }] });
				r.onToken = (text) => send({ ...base, object: "chat.completion.chunk", choices: [{ index, delta: { content: text }, finish_reason: null, logprobs: null }] });
			});
			const results = await Promise.all(requests.map((r) => generateOne(r)));
			results.forEach((result, index) => send({ ...base, object: "chat.completion.chunk", choices: [{ index, delta: {}, finish_reason: openAiFinishReason(result.finishReason), logprobs: tokenLogprobs(result.tokenIds, result.tokenLogprobs) }] }));
			if (includeUsage(body)) send({ ...base, object: "chat.completion.chunk", choices: [], usage: sumUsage(results.map(usageOf)) });
			send("[DONE]");
			response.end();
			return;
		}
		const results = await Promise.all(requests.map((r) => generateOne(r)));
		sendJson(response, 200, {
			...base,
			object: "chat.completion",
			choices: results.map((result, index) => ({ index, message: { role: "assistant", content: result.text }, finish_reason: openAiFinishReason(result.finishReason), logprobs: tokenLogprobs(result.tokenIds, result.tokenLogprobs) })),
			usage: sumUsage(results.map(usageOf)),
		});
	};

	/**
	 * A chat completion from a TCOT model: the English-only prompt (TransLLM Sec. 2.3), the target-language answer as
	 * `content`, the English query and answer as `reasoning_content` (the field vLLM's reasoning parsers fill), and
	 * what happened (history sources, fallback, hidden tokens) under `transllm`.
	 */
	const tcotChatCompletion = async (
		body: Record<string, unknown>,
		messages: KdChatMessage[],
		request: SamplingRequest,
		n: number,
		base: { id: string; created: number; model: string },
		response: ServerResponse,
	): Promise<void> => {
		const tcot = responder as TcotResponder;
		const prepared = await tcot.prepare(messages);
		const query = (messages.at(-1) as KdChatMessage).content;
		const sampling = (index: number) => ({
			maxTokens: request.maxNewTokens,
			temperature: request.temperature,
			...(request.topP !== undefined ? { topP: request.topP } : {}),
			...(request.seed !== undefined ? { seed: request.seed + index * 1000 } : {}),
			stop: request.stop,
			...(request.signal ? { signal: request.signal } : {}),
			...(request.logprobs ? { logprobs: true } : {}),
		});
		if (body.stream === true) {
			const send = stream(response);
			const chunk = (index: number, delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}) =>
				send({ ...base, object: "chat.completion.chunk", choices: [{ index, delta, finish_reason: finish, logprobs: null }], ...extra });
			for (let index = 0; index < n; index++) chunk(index, { role: "assistant", content: "" });
			const results = await Promise.all(
				Array.from({ length: n }, (_, index) =>
					tcot.answer(prepared, {
						...sampling(index),
						onReasoning: (text) => chunk(index, { reasoning_content: text }),
						onContent: (text) => chunk(index, { content: text }),
					}),
				),
			);
			for (const result of results) await tcot.remember(query, result);
			results.forEach((result, index) =>
				send({ ...base, object: "chat.completion.chunk", choices: [{ index, delta: {}, finish_reason: openAiFinishReason(result.finishReason), logprobs: tokenLogprobs(result.visibleTokenIds, result.visibleTokenLogprobs) }], transllm: tcotMetadata(prepared, [result]) }),
			);
			if (includeUsage(body)) send({ ...base, object: "chat.completion.chunk", choices: [], usage: tcotUsage(prepared, results) });
			send("[DONE]");
			response.end();
			return;
		}
		const results = await Promise.all(Array.from({ length: n }, (_, index) => tcot.answer(prepared, sampling(index))));
		for (const result of results) await tcot.remember(query, result);
		sendJson(response, 200, {
			...base,
			object: "chat.completion",
			choices: results.map((result, index) => ({
				index,
				message: { role: "assistant", content: result.content, reasoning_content: result.reasoningContent },
				finish_reason: openAiFinishReason(result.finishReason),
				logprobs: tokenLogprobs(result.visibleTokenIds, result.visibleTokenLogprobs),
			})),
			usage: tcotUsage(prepared, results),
			transllm: tcotMetadata(prepared, results),
		});
	};

	const completion = async (body: Record<string, unknown>, response: ServerResponse): Promise<void> => {
		const prompts = typeof body.prompt === "string" ? [body.prompt] : Array.isArray(body.prompt) && body.prompt.every((p) => typeof p === "string") ? (body.prompt as string[]) : undefined;
		if (!prompts || prompts.length === 0) throw new HttpError(400, "'prompt' must be a string or a non-empty list of strings", "invalid_request_error", "prompt");
		// OpenAI's default for /v1/completions is 16 tokens.
		const n = choicesOf(body);
		// OpenAI orders the choices prompt by prompt, n per prompt.
		const requests = prompts.flatMap((prompt) => Array.from({ length: n }, (_, index) => seedOf(sampling(body, prompt, 16), index)));
		const id = `cmpl-${++counter}`;
		const base = { id, created: Math.floor(Date.now() / 1000), model: options.modelName };
		if (body.stream === true) {
			const send = stream(response);
			requests.forEach((request, index) => {
				request.onToken = (text) => send({ ...base, object: "text_completion", choices: [{ index, text, finish_reason: null, logprobs: null }] });
			});
			const results = await Promise.all(requests.map((request) => generateOne(request)));
			results.forEach((result, index) => send({ ...base, object: "text_completion", choices: [{ index, text: "", finish_reason: openAiFinishReason(result.finishReason), logprobs: null }] }));
			send("[DONE]");
			response.end();
			return;
		}
		const results = await Promise.all(requests.map((request) => generateOne(request)));
		const usage = sumUsage(results.map(usageOf));
		sendJson(response, 200, {
			...base,
			object: "text_completion",
			choices: results.map((result, index) => ({ index, text: result.text, finish_reason: openAiFinishReason(result.finishReason), logprobs: null })),
			usage,
		});
	};

	/** OpenAI's `logprobs` / `top_logprobs` request fields (top alternatives are not computed). */
	const logprobsOf = (body: Record<string, unknown>): boolean => {
		if (body.top_logprobs !== undefined && body.top_logprobs !== null && body.top_logprobs !== 0) throw new HttpError(400, "top_logprobs is not supported (logprobs of the returned tokens are)", "invalid_request_error", "top_logprobs");
		if (body.logprobs !== undefined && body.logprobs !== null && typeof body.logprobs !== "boolean") throw new HttpError(400, "'logprobs' must be a boolean", "invalid_request_error", "logprobs");
		return body.logprobs === true;
	};
	/** OpenAI's chat logprobs: per returned token its text, log-probability and UTF-8 bytes. */
	const tokenLogprobs = (ids: readonly number[], logprobs: readonly number[] | undefined): { content: { token: string; logprob: number; bytes: number[]; top_logprobs: [] }[] } | null => {
		if (!logprobs) return null;
		const tokenizer = options.model.tokenizer;
		// A token's text is what it adds to the decoded prefix; a token holding part of a UTF-8 character adds nothing
		// until the one that completes it (byte-level vocabularies), so the tokens concatenate to the content.
		let shown = "";
		return {
			content: ids.map((id, i) => {
				let token = String(id);
				if (tokenizer) {
					const prefix = tokenizer.decode(ids.slice(0, i + 1));
					token = prefix.endsWith("\uFFFD") ? "" : prefix.slice(shown.length);
					if (!prefix.endsWith("\uFFFD")) shown = prefix;
				}
				return { token, logprob: logprobs[i] as number, bytes: [...Buffer.from(token, "utf8")], top_logprobs: [] };
			}),
		};
	};
	const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
	const tokenizerOf = (): NonNullable<GenerativeModel["tokenizer"]> => {
		if (!options.model.tokenizer) throw new HttpError(501, "this model exposes no tokenizer", "server_error");
		return options.model.tokenizer;
	};

	/** vLLM's /tokenize: `{ prompt }` (raw text, BOS added unless add_special_tokens is false) or `{ messages }` (the chat template, and for a TCOT model the English-only TCOT prompt). */
	const tokenize = (body: Record<string, unknown>, response: ServerResponse): void => {
		const tokenizer = tokenizerOf();
		let tokens: number[];
		if (body.messages !== undefined) {
			const messages = messagesOf(body.messages);
			if (options.model.chatTemplate === undefined) throw new HttpError(400, "the model has no chat template: tokenize a 'prompt' instead", "invalid_request_error", "messages");
			const text = renderChat({ messages, chatTemplate: options.model.chatTemplate, ...(options.model.tokenizerConfig ? { tokenizerConfig: options.model.tokenizerConfig } : {}), addGenerationPrompt: body.add_generation_prompt !== false });
			tokens = tokenizer.encode(text, { addSpecialTokens: false });
		} else if (typeof body.prompt === "string") tokens = tokenizer.encode(body.prompt, { addSpecialTokens: body.add_special_tokens !== false });
		else throw new HttpError(400, "give 'prompt' (a string) or 'messages'", "invalid_request_error", "prompt");
		sendJson(response, 200, { count: tokens.length, max_model_len: null, tokens });
	};

	const detokenize = (body: Record<string, unknown>, response: ServerResponse): void => {
		const tokens = body.tokens;
		if (!Array.isArray(tokens) || !tokens.every((t) => Number.isInteger(t) && t >= 0)) throw new HttpError(400, "'tokens' must be a list of token ids", "invalid_request_error", "tokens");
		sendJson(response, 200, { prompt: tokenizerOf().decode(tokens as number[]) });
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
			const routes = ["/v1/chat/completions", "/v1/completions", "/tokenize", "/detokenize"];
			if (request.method !== "POST" || !routes.includes(path)) throw new HttpError(404, `no route ${request.method} ${path}`, "invalid_request_error", null, "not_found");
			const declared = Number(request.headers["content-length"] ?? 0);
			if (declared > maxBodyBytes) throw new HttpError(413, `the request body is ${declared} bytes; this server accepts at most ${maxBodyBytes}`, "invalid_request_error", null, "request_too_large");
			let text: string;
			try {
				text = await readBody(request, maxBodyBytes);
			} catch {
				throw new HttpError(413, `the request body is over ${maxBodyBytes} bytes, the most this server accepts`, "invalid_request_error", null, "request_too_large");
			}
			let body: Record<string, unknown>;
			try {
				const parsed: unknown = JSON.parse(text);
				if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
				body = parsed as Record<string, unknown>;
			} catch {
				throw new HttpError(400, "the request body must be a JSON object");
			}
			const gone = new AbortController();
			response.on("close", () => {
				if (!response.writableFinished) gone.abort();
			});
			hangUp.set(body, gone.signal);
			if (body.model !== undefined && body.model !== options.modelName) {
				throw new HttpError(404, `The model \`${String(body.model)}\` does not exist; this server serves \`${options.modelName}\``, "invalid_request_error", "model", "model_not_found");
			}
			if (path === "/v1/chat/completions") await chatCompletion(body, response);
			else if (path === "/v1/completions") await completion(body, response);
			else if (path === "/tokenize") tokenize(body, response);
			else detokenize(body, response);
		})().catch((error: unknown) => {
			// The model's refusal of one input (an empty prompt …) is the client's error; anything else is the server's.
			const http =
				error instanceof HttpError
					? error
					: TransllmError.isInstance(error) && (error.code === "E_INPUT" || error.code === "E_CONFIG")
						? new HttpError(400, (error as { reason?: string }).reason ?? error.message, "invalid_request_error", (error as { field?: string }).field ?? null)
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
	return { ...running, baseUrl: `${running.url}/v1`, stats, tcot: { enabled: responder !== undefined, ...(responder?.targetLanguage !== undefined ? { lang: responder.targetLanguage } : {}) } };
}

interface Usage {
	prompt_tokens: number;
	completion_tokens: number;
	total_tokens: number;
}

function usageOf(result: GenerativeModelResult): Usage {
	const prompt = result.promptTokens ?? 0;
	return { prompt_tokens: prompt, completion_tokens: result.tokenIds.length, total_tokens: prompt + result.tokenIds.length };
}

function sumUsage(usages: Usage[]): Usage {
	return usages.reduce((a, b) => ({ prompt_tokens: a.prompt_tokens + b.prompt_tokens, completion_tokens: a.completion_tokens + b.completion_tokens, total_tokens: a.total_tokens + b.total_tokens }));
}

/**
 * Usage of a TCOT answer: the prompt once (choices share it, as OpenAI counts), every generated token including the
 * hidden English ones, which OpenAI's reasoning models report as completion_tokens_details.reasoning_tokens.
 */
function tcotUsage(prepared: PreparedTcotPrompt, results: TcotResponse[]): Usage & { completion_tokens_details: { reasoning_tokens: number } } {
	const completion = results.reduce((sum, r) => sum + r.completionTokens, 0);
	return {
		prompt_tokens: prepared.promptTokens,
		completion_tokens: completion,
		total_tokens: prepared.promptTokens + completion,
		completion_tokens_details: { reasoning_tokens: results.reduce((sum, r) => sum + r.hiddenTokens, 0) },
	};
}

/** What the TCOT server did, under `transllm` in the response: per earlier turn where its English came from, per choice the parse. */
function tcotMetadata(prepared: PreparedTcotPrompt, results: TcotResponse[]): Record<string, unknown> {
	return {
		history: prepared.history,
		translated_turns: prepared.history.filter((source) => source === "translated").length,
		translation_tokens: prepared.translationTokens,
		choices: results.map((r) => ({
			mode: r.mode,
			lang: r.lang,
			english_query: r.queryEn,
			english_response: r.responseEn,
			fallback: r.fallback,
			hidden_tokens: r.hiddenTokens,
		})),
	};
}
