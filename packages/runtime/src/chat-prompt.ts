import { ConfigError, escapeSpecialTokens } from "@transllm/core";
import { renderChat } from "@transllm/tcot";
import type { ChatMessage } from "@transllm/tcot";
import type { ChatTokenizer } from "./tokenizer.js";

/** A prompt: raw text, or chat messages (always rendered with the model's chat template). */
export type PromptInput = string | readonly ChatMessage[];

export interface PromptOptions {
	/** Render a text prompt as one user turn of the chat template (with the generation prompt). Default false. */
	chat?: boolean;
	/** A system message put before the user turn when `chat` renders a text prompt. */
	system?: string;
	/**
	 * Whether a raw text prompt gets the tokenizer's special tokens (Llama's BOS; default true). False for text that
	 * already holds a rendered chat template and its BOS (a TCOT fallback continuing a rendered prompt).
	 */
	addSpecialTokens?: boolean;
}

export interface PromptContext {
	tokenizer: ChatTokenizer;
	chatTemplate?: string;
	tokenizerConfig: Record<string, unknown>;
	/** The tokenizer_config.json the template comes from, named in template errors. */
	chatTemplateFile?: string;
}

/** The chat template of tokenizer_config.json: a string, or a list of named templates whose `default` is used. */
export function chatTemplateOf(tokenizerConfig: Record<string, unknown>): string | undefined {
	const value = tokenizerConfig.chat_template;
	if (typeof value === "string") return value;
	if (Array.isArray(value)) {
		const named = value as { name?: string; template?: string }[];
		return (named.find((t) => t.name === "default") ?? named[0])?.template;
	}
	return undefined;
}

/** The text a prompt becomes: chat prompts go through @transllm/tcot's renderChat with the model's template. */
export function renderPrompt(prompt: PromptInput, context: PromptContext, options: PromptOptions = {}): { text: string; chat: boolean } {
	if (typeof prompt === "string" && !options.chat) return { text: prompt, chat: false };
	if (context.chatTemplate === undefined) {
		throw new ConfigError("the model's tokenizer_config.json has no chat_template: pass raw text prompts (chat: false / --no-chat-template)");
	}
	const given: ChatMessage[] =
		typeof prompt === "string" ? [...(options.system ? [{ role: "system" as const, content: options.system }] : []), { role: "user", content: prompt }] : [...prompt];
	// Message content is text, never markup: a `</s>` or `<EN>` a user types must not become the token that ends or
	// steers a turn (prompt injection). Escaped as @transllm/tcot escapes training data (U+2060 after its first
	// character), it tokenises as the plain text it is; the template's own markers stay special.
	const messages = given.map((message) => ({ ...message, content: escapeSpecialTokens(message.content, context.tokenizer.addedTokens) }));
	return { text: renderChat({ messages, chatTemplate: context.chatTemplate, tokenizerConfig: context.tokenizerConfig, addGenerationPrompt: true, file: context.chatTemplateFile }), chat: true };
}

/**
 * Token ids of a prompt. A rendered chat template already holds BOS (Llama's templates write `{{ bos_token }}`),
 * so it is tokenised without special tokens, as transformers' `apply_chat_template(tokenize=True)` does; raw
 * text gets the tokenizer's special tokens (Llama's BOS).
 */
export function promptTokenIds(prompt: PromptInput, context: PromptContext, options: PromptOptions = {}): number[] {
	const rendered = renderPrompt(prompt, context, options);
	return context.tokenizer.encode(rendered.text, { addSpecialTokens: !rendered.chat && options.addSpecialTokens !== false });
}
