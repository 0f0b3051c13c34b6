import { Template } from "@huggingface/jinja";
import { ConfigError } from "@transllm/core";
import { BUILTIN_CHAT_TEMPLATES } from "./chat-templates.js";
import type { ChatFamily } from "./chat-templates.js";

export interface ChatMessage {
	role: "system" | "user" | "assistant";
	content: string;
}

export interface RenderChatParams {
	messages: readonly ChatMessage[];
	/** A Jinja chat template; wins over `tokenizerConfig.chat_template` and `family`. */
	chatTemplate?: string;
	/** The model's tokenizer_config.json: its `chat_template`, `bos_token`, `eos_token` … are used. */
	tokenizerConfig?: Record<string, unknown>;
	/** Built-in template to use when neither `chatTemplate` nor `tokenizerConfig.chat_template` is given. */
	family?: ChatFamily;
	/** Append the header that opens the assistant's turn (default true). */
	addGenerationPrompt?: boolean;
	/** Where the template comes from (a tokenizer_config.json), named in errors. */
	file?: string;
}

/** The special-token variables a chat template reads, from tokenizer_config.json (or a built-in family's). */
export function chatTemplateVariables(config: Record<string, unknown> | undefined, builtin?: { bos_token?: string; eos_token?: string }): Record<string, string> {
	return {
		bos_token: tokenText(config?.bos_token) ?? builtin?.bos_token ?? "",
		eos_token: tokenText(config?.eos_token) ?? builtin?.eos_token ?? "",
		unk_token: tokenText(config?.unk_token) ?? "",
		pad_token: tokenText(config?.pad_token) ?? "",
	};
}

// tokenizer_config.json writes special tokens as a string or as a serialised AddedToken {"content": "<s>", …}.
function tokenText(value: unknown): string | undefined {
	if (typeof value === "string") return value;
	if (typeof value === "object" && value !== null && typeof (value as { content?: unknown }).content === "string") return (value as { content: string }).content;
	return undefined;
}

// `chat_template` is a string, or a list of named templates of which `default` is the chat one.
function configTemplate(config: Record<string, unknown> | undefined): string | undefined {
	const value = config?.chat_template;
	if (typeof value === "string") return value;
	if (Array.isArray(value)) {
		const named = value as { name?: unknown; template?: unknown }[];
		const chosen = named.find((entry) => entry.name === "default") ?? named[0];
		return typeof chosen?.template === "string" ? chosen.template : undefined;
	}
	return undefined;
}

const compiled = new Map<string, Template>();

/**
 * Renders a conversation to the model's prompt text with its own chat template (from tokenizer_config.json) through
 * @huggingface/jinja — the same template transformers' `apply_chat_template` runs — or with a built-in template
 * for llama-2, llama-3, chatml, mistral or gemma. The text starts with the BOS token where the template writes it:
 * tokenize it without adding special tokens again.
 */
export function renderChat(params: RenderChatParams): string {
	const config = params.tokenizerConfig;
	const builtin = params.family !== undefined ? BUILTIN_CHAT_TEMPLATES[params.family] : undefined;
	if (params.family !== undefined && builtin === undefined) {
		throw new ConfigError(`unknown chat family "${params.family}"; built-in: ${Object.keys(BUILTIN_CHAT_TEMPLATES).join(", ")}`);
	}
	const source = params.chatTemplate ?? configTemplate(config) ?? builtin?.template;
	if (source === undefined) {
		throw new ConfigError(
			"no chat template: the tokenizer_config.json has no chat_template; pass chatTemplate or a family (llama-2, llama-3, chatml, mistral, gemma)",
		);
	}
	const where = params.file !== undefined ? `${params.file}: ` : "";
	let template = compiled.get(source);
	if (!template) {
		try {
			template = new Template(source);
		} catch (error) {
			throw new ConfigError(`${where}cannot parse the chat template: ${(error as Error).message}`, { cause: error });
		}
		compiled.set(source, template);
	}
	const variables: Record<string, unknown> = {
		messages: params.messages.map((message) => ({ role: message.role, content: message.content })),
		add_generation_prompt: params.addGenerationPrompt ?? true,
		...chatTemplateVariables(config, builtin),
	};
	try {
		return template.render(variables);
	} catch (error) {
		// @huggingface/jinja's raise_exception throws an Error with the template's own message.
		throw new ConfigError(`${where}cannot render the chat template: ${(error as Error).message}`, { cause: error });
	}
}
