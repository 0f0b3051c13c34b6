import { createInterface } from "node:readline";
import OpenAI from "openai";
import { writeFileAtomic } from "@transllm/core";
import type { KdChatMessage } from "./generation-backend.js";
import type { GenerativeModel, GenerativeModelResult } from "./generative-model.js";
import { TcotHistoryCache } from "./tcot-history-cache.js";
import { TcotResponder, detectTcotModel } from "./tcot-responder.js";

/** One answer of a chat: what the user sees, the hidden English parts, why it ended. */
export interface ChatAnswer {
	content: string;
	reasoning: string | null;
	finishReason: string;
}

export interface ChatAnswerCallbacks {
	/** Aborted by Ctrl-C: the answer ends with what was generated so far. */
	signal: AbortSignal;
	onReasoning(text: string): void;
	onContent(text: string): void;
}

/** Who answers in `transllm chat`: a local model or an OpenAI-compatible endpoint. */
export interface ChatAnswerer {
	/** A line for the banner: the model and how TCOT is handled. */
	readonly description: string;
	answer(messages: readonly KdChatMessage[], callbacks: ChatAnswerCallbacks): Promise<ChatAnswer>;
}

export interface ChatSampling {
	maxTokens: number;
	temperature: number;
	topP?: number;
	seed?: number;
}

/**
 * A local model: a TCOT model (detected from its vocabulary unless `tcot` is false) answers through TcotResponder
 * (English-only history, target-language content, English parts as reasoning); any other model answers plainly.
 * Generation goes through continuous batching (submit), so Ctrl-C ends the answer at the next decode step.
 */
export async function localChatAnswerer(model: GenerativeModel, options: ChatSampling & { tcot?: boolean; lang?: string; name: string }): Promise<ChatAnswerer> {
	const run = (request: { prompt: string | readonly KdChatMessage[]; rendered?: boolean; maxNewTokens: number; temperature: number; topP?: number; seed?: number; stop?: string[]; stopTokenIds?: number[]; onToken?: (text: string) => void; signal?: AbortSignal }): Promise<GenerativeModelResult> => {
		const params = {
			maxNewTokens: request.maxNewTokens,
			temperature: request.temperature,
			...(request.topP !== undefined ? { topP: request.topP } : {}),
			...(request.seed !== undefined ? { seed: request.seed } : {}),
			...(request.stop?.length ? { stopStrings: request.stop } : {}),
			...(request.stopTokenIds?.length ? { stopTokenIds: request.stopTokenIds } : {}),
			...(request.rendered ? { addSpecialTokens: false } : {}),
			...(request.onToken ? { onToken: request.onToken } : {}),
		};
		if (model.submit) {
			const handle = model.submit({ prompt: request.prompt, ...params });
			request.signal?.addEventListener("abort", () => handle.cancel(), { once: true });
			return handle.result;
		}
		const { onToken, ...rest } = params;
		return model.generate({ prompts: [request.prompt], ...rest, ...(onToken ? { onToken: (_i: number, text: string) => onToken(text) } : {}) }).then((results) => results[0] as GenerativeModelResult);
	};
	const sampling = { temperature: options.temperature, ...(options.topP !== undefined ? { topP: options.topP } : {}), ...(options.seed !== undefined ? { seed: options.seed } : {}) };
	const detected = detectTcotModel(model);
	if (options.tcot !== false && detected.tcot && model.tokenizer) {
		const responder = new TcotResponder({
			model: { tokenizer: model.tokenizer, chatTemplate: model.chatTemplate, tokenizerConfig: model.tokenizerConfig },
			cache: await TcotHistoryCache.open(),
			...(options.lang !== undefined ? { lang: options.lang } : {}),
			generate: (request) => run({ ...request, rendered: true }),
		});
		return {
			description: `${options.name} (TCOT, target language ${responder.targetLanguage ?? "any"}; /think shows the English parts)`,
			answer: async (messages, callbacks) => {
				const response = await responder.respond({ messages, maxTokens: options.maxTokens, ...sampling, stop: [], signal: callbacks.signal, onReasoning: callbacks.onReasoning, onContent: callbacks.onContent });
				await responder.remember((messages.at(-1) as KdChatMessage).content, response);
				return { content: response.content, reasoning: response.reasoningContent, finishReason: response.finishReason };
			},
		};
	}
	return {
		description: options.name,
		answer: async (messages, callbacks) => {
			const result = await run({ prompt: messages, maxNewTokens: options.maxTokens, ...sampling, onToken: callbacks.onContent, signal: callbacks.signal });
			return { content: result.text, reasoning: null, finishReason: result.finishReason };
		},
	};
}

/** An OpenAI-compatible endpoint (`transllm serve --tcot` sends the English parts as reasoning_content). */
export function endpointChatAnswerer(options: ChatSampling & { endpoint: string; model: string; apiKey?: string }): ChatAnswerer {
	const client = new OpenAI({ baseURL: options.endpoint, apiKey: options.apiKey ?? "none", maxRetries: 2 });
	return {
		description: `${options.model} at ${options.endpoint}`,
		answer: async (messages, callbacks) => {
			let content = "";
			let reasoning = "";
			let finishReason = "stop";
			try {
				const stream = await client.chat.completions.create(
					{ model: options.model, messages: [...messages], max_tokens: options.maxTokens, temperature: options.temperature, ...(options.topP !== undefined ? { top_p: options.topP } : {}), ...(options.seed !== undefined ? { seed: options.seed } : {}), stream: true },
					{ signal: callbacks.signal },
				);
				for await (const chunk of stream) {
					const delta = chunk.choices[0]?.delta as { content?: string | null; reasoning_content?: string | null } | undefined;
					if (delta?.reasoning_content) (reasoning += delta.reasoning_content), callbacks.onReasoning(delta.reasoning_content);
					if (delta?.content) (content += delta.content), callbacks.onContent(delta.content);
					finishReason = chunk.choices[0]?.finish_reason ?? finishReason;
				}
			} catch (error) {
				if (!callbacks.signal.aborted) throw error;
				finishReason = "stop";
			}
			return { content, reasoning: reasoning === "" ? null : reasoning, finishReason };
		},
	};
}

export interface ChatSessionOptions {
	answerer: ChatAnswerer;
	input: NodeJS.ReadableStream;
	output: NodeJS.WritableStream;
	system?: string;
	/** Show the English parts from the start (`/think` toggles). */
	think?: boolean;
}

interface Turn extends KdChatMessage {
	reasoning_content?: string;
}

const HELP = "/think (show or hide the English parts), /history, /reset, /save <file.jsonl>, /exit; Ctrl-C stops an answer, Ctrl-D quits";

/**
 * The interactive loop of `transllm chat`: a line is a user turn, answered with streaming output; commands start
 * with `/`. Ctrl-C while an answer streams stops that answer (what was shown is kept in the conversation); at the
 * prompt it only reminds how to quit.
 */
export async function runChatSession(options: ChatSessionOptions): Promise<void> {
	const out = options.output;
	const rl = createInterface({ input: options.input, output: out, terminal: (out as { isTTY?: boolean }).isTTY === true });
	const conversation: Turn[] = options.system !== undefined ? [{ role: "system", content: options.system }] : [];
	let think = options.think === true;
	let answering: AbortController | undefined;
	rl.on("SIGINT", () => {
		if (answering) answering.abort();
		else out.write(`\n(Ctrl-D or /exit quits)\n`);
		if (!answering) rl.prompt();
	});
	out.write(`transllm chat with ${options.answerer.description}\n${HELP}\n`);
	rl.setPrompt("> ");
	rl.prompt();
	for await (const raw of rl) {
		const line = raw.trim();
		if (line === "") {
			rl.prompt();
			continue;
		}
		if (line === "/exit" || line === "/quit") break;
		if (line.startsWith("/")) {
			const [command, ...rest] = line.split(/\s+/);
			if (command === "/think") {
				think = !think;
				out.write(`English parts ${think ? "shown" : "hidden"}\n`);
			} else if (command === "/history") {
				for (const turn of conversation) {
					if (turn.reasoning_content && think) out.write(`  [English] ${turn.reasoning_content.replace(/\n+/g, " | ")}\n`);
					out.write(`${turn.role}: ${turn.content}\n`);
				}
				if (conversation.length === 0) out.write("(no history)\n");
			} else if (command === "/reset") {
				conversation.splice(options.system !== undefined ? 1 : 0);
				out.write("history cleared\n");
			} else if (command === "/save") {
				const file = rest.join(" ");
				if (file === "") out.write("usage: /save <file.jsonl>\n");
				else {
					try {
						await writeFileAtomic(file, conversation.map((turn) => `${JSON.stringify(turn)}\n`).join(""));
						out.write(`saved ${conversation.length} messages to ${file}\n`);
					} catch (error) {
						out.write(`cannot save to ${file}: ${(error as Error).message}\n`);
					}
				}
			} else out.write(`unknown command ${command}; ${HELP}\n`);
			rl.prompt();
			continue;
		}
		conversation.push({ role: "user", content: line });
		answering = new AbortController();
		let inReasoning = false;
		let answer: ChatAnswer;
		try {
			answer = await options.answerer.answer(
				conversation.map(({ role, content }) => ({ role, content })),
				{
					signal: answering.signal,
					onReasoning: (text) => {
						if (!think) return;
						if (!inReasoning) out.write("[English] ");
						inReasoning = true;
						out.write(text);
					},
					onContent: (text) => {
						if (inReasoning) out.write("\n");
						inReasoning = false;
						out.write(text);
					},
				},
			);
		} catch (error) {
			conversation.pop();
			out.write(`\nerror: ${(error as Error).message}\n`);
			answering = undefined;
			rl.prompt();
			continue;
		}
		const stopped = answering.signal.aborted;
		answering = undefined;
		out.write(stopped ? " [stopped]\n" : "\n");
		conversation.push({ role: "assistant", content: answer.content, ...(answer.reasoning ? { reasoning_content: answer.reasoning } : {}) });
		rl.prompt();
	}
	rl.close();
}
