import { InputError } from "@transllm/core";
import type { ChatMessage } from "./render-chat.js";
import type { TrainingInstance } from "./training-instance.js";

/** TRL's conversational dataset types (SFTTrainer): `messages` (language modeling) or `prompt`/`completion`. */
export type TrlStyle = "messages" | "prompt-completion";

export interface TrlMessagesRecord {
	messages: ChatMessage[];
}

/** Conversational prompt-completion: the loss is on the completion only (TRL's completion-only default). */
export interface TrlPromptCompletionRecord {
	prompt: ChatMessage[];
	completion: ChatMessage[];
}

export function toTrlMessages(instance: TrainingInstance): TrlMessagesRecord {
	return {
		messages: [
			{ role: "user", content: instance.query },
			{ role: "assistant", content: instance.response },
		],
	};
}

export function toTrlPromptCompletion(instance: TrainingInstance): TrlPromptCompletionRecord {
	return { prompt: [{ role: "user", content: instance.query }], completion: [{ role: "assistant", content: instance.response }] };
}

function turn(value: unknown, role: ChatMessage["role"], field: string): string {
	const message = value as Partial<ChatMessage> | undefined;
	if (message?.role !== role || typeof message.content !== "string") throw new InputError(`expected a ${role} message`, { field });
	return message.content;
}

/** Reads a TRL record of either style back into (query, response). */
export function fromTrl(record: unknown): { query: string; response: string } {
	const value = record as Partial<TrlMessagesRecord & TrlPromptCompletionRecord> | null;
	if (Array.isArray(value?.messages)) {
		if (value.messages.length !== 2) throw new InputError("expected a user and an assistant message", { field: "messages" });
		return { query: turn(value.messages[0], "user", "messages[0]"), response: turn(value.messages[1], "assistant", "messages[1]") };
	}
	if (Array.isArray(value?.prompt) && Array.isArray(value.completion)) {
		return { query: turn(value.prompt[0], "user", "prompt[0]"), response: turn(value.completion[0], "assistant", "completion[0]") };
	}
	throw new InputError("expected a TRL record with messages or prompt/completion", { field: "messages" });
}
