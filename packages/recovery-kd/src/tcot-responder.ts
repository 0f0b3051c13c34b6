import { InputError, checkLanguage, identifyLanguage, listLanguages } from "@transllm/core";
import {
	EN_TOKEN,
	RESPONSE_TOKEN,
	TcotStreamParser,
	buildTcotPrompt,
	defaultTranslationTemplates,
	normalizeLanguage,
	parseTcotOutput,
	renderChat,
	renderTranslationPrompt,
	targetLanguageToken,
} from "@transllm/tcot";
import type { TcotParseResult, TcotStreamEvent } from "@transllm/tcot";
import type { KdChatMessage } from "./generation-backend.js";
import type { GenerativeModel, GenerativeModelResult } from "./generative-model.js";
import { turnKey } from "./tcot-history-cache.js";
import type { EnglishTurn, TcotHistoryCache } from "./tcot-history-cache.js";

/** One generation the responder asks for: a rendered prompt (it holds its BOS), continued by the model. */
export interface TcotGenerateRequest {
	prompt: string;
	maxNewTokens: number;
	temperature: number;
	topP?: number;
	seed?: number;
	stop: string[];
	stopTokenIds: number[];
	onToken?: (text: string) => void;
	signal?: AbortSignal;
	logprobs?: boolean;
}

export interface TcotResponderOptions {
	/** The TCOT model (its tokenizer has the markers; its chat template renders the prompt). */
	model: Required<Pick<GenerativeModel, "tokenizer">> & Pick<GenerativeModel, "chatTemplate" | "tokenizerConfig">;
	/** Runs one generation (the server sends it through its batcher). */
	generate(request: TcotGenerateRequest): Promise<GenerativeModelResult>;
	cache: TcotHistoryCache;
	/** Target language β (default: the model's only language-ID token besides `<EN>`). */
	lang?: string;
	/**
	 * Share of a request's token budget kept for the target answer (default 0.25): the English part may use the
	 * rest; if it is still going then, the paper's fallback forces the next marker and the answer gets the reserve.
	 */
	targetReserve?: number;
	/** Called with every prompt the model is given (logging, tests). */
	onPrompt?: (prompt: string, purpose: "answer" | "translate" | "continue") => void;
}

export interface TcotRequest {
	messages: readonly KdChatMessage[];
	maxTokens: number;
	temperature: number;
	topP?: number;
	seed?: number;
	stop: string[];
	/** English query and answer pieces as generated (the `reasoning_content` deltas). */
	onReasoning?: (text: string) => void;
	/** Target-language (or, in English mode, English) answer pieces: the only thing a user sees. */
	onContent?: (text: string) => void;
	/** Ends generation early (a client hung up, Ctrl-C in chat): the answer so far is returned. */
	signal?: AbortSignal;
	/** Keep the log-probabilities of the answer's tokens (visibleTokenLogprobs). */
	logprobs?: boolean;
}

/** A conversation's TCOT prompt, ready for answer(). */
export interface PreparedTcotPrompt {
	prompt: string;
	promptTokens: number;
	/** The new query q^β_{n+1}. */
	query: string;
	history: HistorySource[];
	translationTokens: number;
}

/** Where the English parts of an earlier turn came from. */
export type HistorySource = "cache" | "english" | "translated";

export interface TcotResponse {
	content: string;
	/** The English query and answer, a blank line between (null in English mode, where the answer is the content). */
	reasoningContent: string | null;
	queryEn: string | null;
	responseEn: string | null;
	mode: TcotParseResult["mode"];
	lang: string | null;
	finishReason: string;
	promptTokens: number;
	/** Every generated token, the hidden English ones included. */
	completionTokens: number;
	/** Generated tokens before the answer the user sees (English query, English answer, markers). */
	hiddenTokens: number;
	/** The paper's fallback, each time it was applied: the stage forced and the text appended. */
	fallback: { stage: string; append: string }[];
	/** Per earlier turn, where its English parts came from. */
	history: HistorySource[];
	/** Tokens spent translating unknown turns into English (prompt + generated). */
	translationTokens: number;
	/** The rendered prompt of the answer (English-only history, the new query). */
	prompt: string;
	/** The generated tokens of the answer the user sees (after the opening marker), and their log-probabilities with `logprobs`. */
	visibleTokenIds: number[];
	visibleTokenLogprobs?: number[];
}

/** The language-ID tokens a tokenizer has, besides `<EN>`. */
function modelLanguages(tokenizer: TcotResponderOptions["model"]["tokenizer"]): string[] {
	return listLanguages()
		.map((language) => language.code)
		.filter((code) => code !== "en" && tokenizer.tokenToId(targetLanguageToken(code)) !== undefined);
}

/** Whether a model is a TransLLM TCOT model: `<EN>`, `<RESPONSE>` and at least one target language token in its vocabulary. */
export function detectTcotModel(model: Pick<GenerativeModel, "tokenizer">): { tcot: boolean; langs: string[] } {
	const tokenizer = model.tokenizer;
	if (!tokenizer) return { tcot: false, langs: [] };
	const langs = modelLanguages(tokenizer);
	return { tcot: tokenizer.tokenToId(EN_TOKEN) !== undefined && tokenizer.tokenToId(RESPONSE_TOKEN) !== undefined && langs.length > 0, langs };
}

/**
 * Answers a conversation with a TCOT model the way TransLLM infers (`../shared/papers/000_1ce36f3811662daf.txt`
 * Sec. 2.3, App. A.3): the prompt holds only the English parts of earlier turns (from the history cache, or
 * translated by the model itself when the cache does not know a turn) and the new query; the model writes
 * `<EN> q^α <RESPONSE> a^α <β> a^β`; the user gets a^β, the English parts go to the reasoning channel.
 */
export class TcotResponder {
	private readonly lang: string | undefined;
	private readonly markerIds: { response: number; target: number | undefined };

	constructor(private readonly options: TcotResponderOptions) {
		const tokenizer = options.model.tokenizer;
		const langs = modelLanguages(tokenizer);
		this.lang = options.lang !== undefined ? normalizeLanguage(options.lang) : langs.length === 1 ? langs[0] : undefined;
		const response = tokenizer.tokenToId(RESPONSE_TOKEN);
		if (tokenizer.tokenToId(EN_TOKEN) === undefined || response === undefined) {
			throw new InputError(`the model's vocabulary has no ${EN_TOKEN} / ${RESPONSE_TOKEN} tokens: it is not a TCOT model (see tokenizer extend / tcot build)`, { field: "tokenizer.json" });
		}
		this.markerIds = { response, target: this.lang !== undefined ? tokenizer.tokenToId(targetLanguageToken(this.lang)) : undefined };
	}

	get targetLanguage(): string | undefined {
		return this.lang;
	}

	/** Answers a conversation: prepare() then answer(). */
	async respond(request: TcotRequest): Promise<TcotResponse> {
		return this.answer(await this.prepare(request.messages), request);
	}

	/** The English-only prompt of a conversation (earlier turns from the cache or translated, then cached). */
	async prepare(messages: readonly KdChatMessage[]): Promise<PreparedTcotPrompt> {
		const { system, turns, query } = splitConversation(messages);
		let translationTokens = 0;
		const history: HistorySource[] = [];
		const english: EnglishTurn[] = [];
		for (const turn of turns) {
			const key = turnKey(turn.user, turn.assistant);
			const known = this.options.cache.get(key);
			if (known) {
				english.push(known);
				history.push("cache");
				continue;
			}
			const [queryEn, responseEn] = await Promise.all([this.toEnglish(turn.user), this.toEnglish(turn.assistant)]);
			translationTokens += queryEn.tokens + responseEn.tokens;
			const entry = { queryEn: queryEn.text, responseEn: responseEn.text };
			english.push(entry);
			history.push(queryEn.translated || responseEn.translated ? "translated" : "english");
			await this.options.cache.set(key, entry);
		}
		const { prompt } = buildTcotPrompt({
			query,
			history: english,
			...(system !== undefined ? { system } : {}),
			...(this.options.model.chatTemplate !== undefined ? { chatTemplate: this.options.model.chatTemplate } : {}),
			...(this.options.model.tokenizerConfig !== undefined ? { tokenizerConfig: this.options.model.tokenizerConfig } : {}),
			...(this.lang !== undefined ? { specialTokens: [targetLanguageToken(this.lang)] } : {}),
		});
		const promptTokens = this.options.model.tokenizer.encode(prompt, { addSpecialTokens: false }).length;
		return { prompt, promptTokens, query, history, translationTokens };
	}

	/** Generates one answer to a prepared prompt (call it n times for n choices). */
	async answer(prepared: PreparedTcotPrompt, request: Omit<TcotRequest, "messages">): Promise<TcotResponse> {
		const { prompt, promptTokens, history, translationTokens } = prepared;
		this.options.onPrompt?.(prompt, "answer");

		const parser = new TcotStreamParser(this.lang !== undefined ? { lang: this.lang } : {});
		let content = "";
		let reasoning = "";
		let reasoningStage: string | undefined;
		let inContent = false;
		const onEvents = (events: TcotStreamEvent[]): void => {
			for (const event of events) {
				if (event.type === "english-delta") {
					if (event.english) {
						inContent = true;
						content += event.text;
						request.onContent?.(event.text);
						continue;
					}
					// The English query, a blank line, the English answer.
					const piece = reasoningStage !== undefined && reasoningStage !== event.stage ? `\n\n${event.text}` : event.text;
					reasoningStage = event.stage;
					reasoning += piece;
					request.onReasoning?.(piece);
				} else if (event.type === "target-delta") {
					inContent = true;
					content += event.text;
					request.onContent?.(event.text);
				}
			}
		};

		const reserve = Math.floor(request.maxTokens * (this.options.targetReserve ?? 0.25));
		let budget = request.maxTokens;
		let generated = "";
		let completionTokens = 0;
		let hiddenTokens = 0;
		let finishReason = "length";
		const fallback: TcotResponse["fallback"] = [];
		const visibleTokenIds: number[] = [];
		const visibleTokenLogprobs: number[] = [];
		let append = "";
		for (let pass = 0; pass < 3 && budget > 0; pass++) {
			const hiddenSoFar = !inContent;
			// The English part may not eat the target answer's reserve (the first pass only; later passes use what is left).
			const cap = pass === 0 && reserve > 0 && reserve < budget ? budget - reserve : budget;
			const passPrompt = `${prompt}${generated}${append}`;
			if (pass > 0) this.options.onPrompt?.(passPrompt, "continue");
			const result = await this.options.generate({
				prompt: passPrompt,
				maxNewTokens: cap,
				temperature: request.temperature,
				...(request.topP !== undefined ? { topP: request.topP } : {}),
				...(request.seed !== undefined ? { seed: request.seed + pass } : {}),
				stop: request.stop,
				stopTokenIds: [],
				onToken: (text) => onEvents(parser.push(text)),
				...(request.signal ? { signal: request.signal } : {}),
				...(request.logprobs ? { logprobs: true } : {}),
			});
			generated += `${append}${result.text}`;
			budget -= result.tokenIds.length;
			completionTokens += result.tokenIds.length;
			let hidden = 0;
			if (hiddenSoFar) {
				const opening = parser.peek().mode === "english" ? this.markerIds.response : this.markerIds.target;
				const at = opening !== undefined ? result.tokenIds.indexOf(opening) : -1;
				hidden = at >= 0 ? at + 1 : inContent ? 0 : result.tokenIds.length;
				hiddenTokens += hidden;
			}
			visibleTokenIds.push(...result.tokenIds.slice(hidden));
			if (result.tokenLogprobs) visibleTokenLogprobs.push(...result.tokenLogprobs.slice(hidden));
			finishReason = result.finishReason;
			if (result.finishReason === "stop" || budget <= 0 || request.signal?.aborted) break;
			const state = parser.peek();
			const cutByCap = result.finishReason === "length" && cap < budget + result.tokenIds.length;
			if (inContent || state.mode === "english") {
				// The answer is under way: a pass cut by the English part's cap goes on; an EOS ends it.
				if (!cutByCap) break;
				append = "";
				continue;
			}
			// Stopped before the target answer: the paper's fallback appends the next marker and lets the model go on.
			if (state.fallback) {
				fallback.push({ stage: state.fallback.stage, append: state.fallback.append });
				generated = generated.trimEnd();
				append = state.fallback.append;
				onEvents(parser.push(append));
			} else if (cutByCap) append = "";
			else break;
		}
		const events = parser.end();
		onEvents(events);
		const result = (events.at(-1) as { type: "end"; result: TcotParseResult }).result;
		// A model that wrote no marker at all answered plainly: that text is the answer.
		if (result.mode === "unmarked" && content === "" && result.unmarked !== undefined) {
			content = result.unmarked;
			request.onContent?.(content);
		}
		return {
			content,
			reasoningContent: reasoning === "" ? null : reasoning,
			queryEn: result.queryEn ?? null,
			responseEn: result.responseEn ?? null,
			mode: result.mode,
			lang: result.lang ?? this.lang ?? null,
			finishReason,
			promptTokens,
			completionTokens,
			hiddenTokens,
			fallback,
			history,
			translationTokens,
			prompt,
			visibleTokenIds,
			...(request.logprobs ? { visibleTokenLogprobs } : {}),
		};
	}

	/** The English parts of a finished answer, stored under the turn the client will send back. */
	async remember(query: string, response: TcotResponse): Promise<void> {
		const queryEn = response.mode === "english" ? query : response.queryEn;
		const responseEn = response.responseEn;
		if (queryEn && responseEn && response.content !== "") await this.options.cache.set(turnKey(query, response.content), { queryEn, responseEn });
	}

	/** English text of an earlier message: as it is when it is English, else translated by the model (Sec. 2.2.3's translation instructions). */
	private async toEnglish(text: string): Promise<{ text: string; translated: boolean; tokens: number }> {
		const source = this.lang ?? identifyLanguage(text).lang;
		if (source === "und" || checkLanguage(text, "en", { candidates: ["en", source] }).ok) return { text, translated: false, tokens: 0 };
		const templates = defaultTranslationTemplates();
		// The instruction in the source language, as the translation data teaches it (instruction language `source`).
		const template = templates.find((t) => t.lang === source) ?? (templates.find((t) => t.lang === "en") as (typeof templates)[number]);
		const instruction = renderTranslationPrompt(template, { source: text, sourceLang: source, targetLang: "en" });
		const prompt = renderChat({
			messages: [{ role: "user", content: instruction }],
			...(this.options.model.chatTemplate !== undefined ? { chatTemplate: this.options.model.chatTemplate } : {}),
			...(this.options.model.tokenizerConfig !== undefined ? { tokenizerConfig: this.options.model.tokenizerConfig } : {}),
			addGenerationPrompt: true,
		});
		this.options.onPrompt?.(prompt, "translate");
		const promptTokens = this.options.model.tokenizer.encode(prompt, { addSpecialTokens: false }).length;
		const stopTokenIds = [this.markerIds.response, ...(this.markerIds.target !== undefined ? [this.markerIds.target] : [])];
		const result = await this.options.generate({ prompt, maxNewTokens: Math.min(2048, 3 * promptTokens + 32), temperature: 0, stop: [], stopTokenIds });
		// The answer to a translation instruction into English is `<EN> s^α` (y = cat(⟨α⟩, s^α)).
		const parsed = parseTcotOutput(result.text, this.lang !== undefined ? { lang: this.lang } : {});
		const english = parsed.queryEn ?? parsed.unmarked ?? result.text.trim();
		return { text: english === "" ? text : english, translated: true, tokens: promptTokens + result.tokenIds.length };
	}
}

/** System prompt, earlier (user, assistant) turns and the new query of a chat request. */
function splitConversation(messages: readonly KdChatMessage[]): { system?: string; turns: { user: string; assistant: string }[]; query: string } {
	let index = 0;
	let system: string | undefined;
	if (messages[0]?.role === "system") {
		system = messages[0].content;
		index = 1;
	}
	const turns: { user: string; assistant: string }[] = [];
	const rest = messages.slice(index);
	if (rest.length % 2 !== 1) throw new InputError("a TCOT conversation alternates user and assistant messages and ends with a user message", { field: "messages" });
	for (let i = 0; i < rest.length; i++) {
		const expected = i % 2 === 0 ? "user" : "assistant";
		const message = rest[i] as KdChatMessage;
		if (message.role !== expected) throw new InputError(`messages[${index + i}] must be a ${expected} message (a TCOT conversation alternates user and assistant, after an optional system message)`, { field: `messages[${index + i}].role` });
	}
	for (let i = 0; i + 1 < rest.length; i += 2) turns.push({ user: (rest[i] as KdChatMessage).content, assistant: (rest[i + 1] as KdChatMessage).content });
	return { ...(system !== undefined ? { system } : {}), turns, query: (rest.at(-1) as KdChatMessage).content };
}
