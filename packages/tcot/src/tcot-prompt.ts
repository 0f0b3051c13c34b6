import { ConfigError } from "@transllm/core";
import type { ChatFamily } from "./chat-templates.js";
import { renderChat } from "./render-chat.js";
import type { ChatMessage } from "./render-chat.js";
import { EN_TOKEN, RESPONSE_TOKEN } from "./special-tokens.js";
import { findSpecialToken } from "@transllm/core";

/** The English parts of an earlier TCOT turn: q^α_i and a^α_i (`parseTcotOutput` gives them as queryEn/responseEn). */
export interface TcotHistoryTurn {
	queryEn?: string;
	responseEn?: string;
}

export interface BuildTcotPromptParams {
	/** The new query q^β_{n+1} in the target language (or in English). */
	query: string;
	/** Earlier turns, oldest first. */
	history?: readonly TcotHistoryTurn[];
	system?: string;
	chatTemplate?: string;
	tokenizerConfig?: Record<string, unknown>;
	family?: ChatFamily;
	/** Language-ID tokens to keep out of the history besides `<EN>` and `<RESPONSE>` (e.g. `["<TH>"]`). */
	specialTokens?: readonly string[];
}

/**
 * The inference prompt of TransLLM (`../shared/papers/000_1ce36f3811662daf.txt` Sec. 2.3): x = cat(q^α_1, a^α_1, …,
 * q^α_n, a^α_n, q^β_{n+1}) in the model's original multi-turn format — only the English parts of earlier TCOT
 * outputs as history, "We do not use any special tokens in the history" — rendered with the model's chat template
 * (App. A.3 shows Llama-2's). The model then writes `<EN> q^α_{n+1} <RESPONSE> a^α_{n+1} <β> a^β_{n+1}`.
 */
export function buildTcotPrompt(params: BuildTcotPromptParams): { messages: ChatMessage[]; prompt: string } {
	const tokens = [EN_TOKEN, RESPONSE_TOKEN, ...(params.specialTokens ?? [])];
	const messages: ChatMessage[] = [];
	if (params.system !== undefined) messages.push({ role: "system", content: params.system });
	(params.history ?? []).forEach((turn, index) => {
		for (const [field, text] of [
			["queryEn", turn.queryEn],
			["responseEn", turn.responseEn],
		] as const) {
			if (typeof text !== "string" || text.trim() === "") {
				throw new ConfigError(`history turn ${index + 1}: ${field} is missing (the TCOT output of that turn was incomplete; see parseTcotOutput().missing)`);
			}
			const token = findSpecialToken(text, tokens);
			if (token !== undefined) throw new ConfigError(`history turn ${index + 1}: ${field} contains the special token ${token}; the history holds plain English only`);
		}
		messages.push({ role: "user", content: (turn.queryEn as string).trim() }, { role: "assistant", content: (turn.responseEn as string).trim() });
	});
	messages.push({ role: "user", content: params.query });
	const prompt = renderChat({ messages, chatTemplate: params.chatTemplate, tokenizerConfig: params.tokenizerConfig, family: params.family, addGenerationPrompt: true });
	return { messages, prompt };
}
