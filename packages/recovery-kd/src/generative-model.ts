import type { KdChatMessage } from "./generation-backend.js";

/** What a text result of a generative model holds (runtime's GenerationResult has these fields). */
export interface GenerativeModelResult {
	text: string;
	tokenIds: number[];
	/** "eos" (end of turn), "stop" (a stop string or token) or "length". */
	finishReason: string;
	promptTokens?: number;
	/** log P(token) per token of tokenIds, when asked for (`logprobs`). */
	tokenLogprobs?: number[];
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
		stopTokenIds?: readonly number[];
		/** Special tokens kept in the text (runtime default: the TCOT markers). */
		keepSpecialTokens?: readonly string[];
		/** Raw text prompts get BOS unless false (a prompt that already holds the rendered template). */
		addSpecialTokens?: boolean;
		batchSize?: number;
		logprobs?: boolean;
		onToken?(index: number, text: string): void;
	}): Promise<GenerativeModelResult[]>;
	/** Continuous batching (runtime's ChatModel.submit): one prompt joins the running batch; cancel() ends it early. */
	submit?(params: {
		prompt: string | readonly KdChatMessage[];
		maxNewTokens?: number;
		temperature?: number;
		topP?: number;
		seed?: number | string;
		stopStrings?: readonly string[];
		stopTokenIds?: readonly number[];
		addSpecialTokens?: boolean;
		logprobs?: boolean;
		onToken?(text: string): void;
	}): { result: Promise<GenerativeModelResult>; cancel(): void };
	/** The model's tokenizer (TCOT serving looks up the markers, /tokenize counts tokens). */
	readonly tokenizer?: {
		encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
		decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
		tokenToId(token: string): number | undefined;
		idToToken(id: number): string | undefined;
	};
	/** The chat template of tokenizer_config.json and the config itself (special token names for rendering). */
	readonly chatTemplate?: string;
	readonly tokenizerConfig?: Record<string, unknown>;
}

/** OpenAI's name for why generation ended ("eos" of the runtime is the end of the turn: "stop"). */
export function openAiFinishReason(reason: string): string {
	return reason === "eos" ? "stop" : reason;
}
