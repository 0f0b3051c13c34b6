/** One turn of a chat (the shape of @transllm/tcot's ChatMessage and of the OpenAI chat API). */
export interface KdChatMessage {
	role: "system" | "user" | "assistant";
	content: string;
}

/** Sampling parameters of recovery-KD generation. Greedy by default (paper App. A.1: "we use greedy search"). */
export interface GenerationParams {
	/** 0 = greedy (the default). */
	temperature: number;
	/** Most new tokens per answer; an answer cut here has finish_reason "length" and is flagged "truncated". */
	max_tokens: number;
	top_p?: number;
	seed?: number;
	/** System prompt, when one is set (none by default: the model's own template decides). */
	system?: string;
}

/** One generated answer. */
export interface GenerationResult {
	text: string;
	/** "stop" (end of turn), "length" (max_tokens reached) or what the server reported. */
	finishReason: string;
	/** Tokens the server counted (OpenAI's `usage`), when it reports them: what a judge's verdicts cost. */
	usage?: { promptTokens: number; completionTokens: number };
}

/**
 * A chat model that answers chat requests, local or remote. The pipeline sends up to `concurrency` requests
 * at once; a local backend batches concurrent requests into one forward pass, a remote one sends them as
 * parallel HTTP requests.
 */
export interface GenerationBackend {
	/** `local` or `openai-compatible`. */
	readonly kind: string;
	/** Model name written into every record (`model`). */
	readonly model: string;
	/** Requests worth having in flight at once. */
	readonly concurrency: number;
	/** Where the model is (a directory or a redacted URL), for the manifest. */
	readonly location: string;
	/** Remote retries made so far (for the manifest and benchmarks). */
	readonly retries: number;
	generate(messages: KdChatMessage[], params: GenerationParams, signal?: AbortSignal): Promise<GenerationResult>;
	close(): Promise<void>;
}

/** The messages of one query: an optional system prompt, then the query as the user turn. */
export function queryMessages(query: string, system?: string): KdChatMessage[] {
	return system ? [{ role: "system", content: system }, { role: "user", content: query }] : [{ role: "user", content: query }];
}
