import type { KdChatMessage } from "./generation-backend.js";

/** What a text result of a generative model holds (runtime's GenerationResult has these fields). */
export interface GenerativeModelResult {
	text: string;
	tokenIds: number[];
	/** "eos" (end of turn), "stop" (a stop string or token) or "length". */
	finishReason: string;
	promptTokens?: number;
}

/**
 * The part of @transllm/runtime's ChatModel that generation and serving use: `generate` over raw text prompts
 * or chat messages (rendered with the model's own chat template through @transllm/tcot's renderChat).
 * A loaded ChatModel (`loadModel(dir)`) is one.
 */
export interface GenerativeModel {
	generate(params: {
		prompts: readonly (string | readonly KdChatMessage[])[];
		maxNewTokens?: number;
		temperature?: number;
		topP?: number;
		topK?: number;
		seed?: number | string;
		stopStrings?: readonly string[];
		batchSize?: number;
		onToken?(index: number, text: string): void;
	}): Promise<GenerativeModelResult[]>;
}

/** OpenAI's name for why generation ended ("eos" of the runtime is the end of the turn: "stop"). */
export function openAiFinishReason(reason: string): string {
	return reason === "eos" ? "stop" : reason;
}
