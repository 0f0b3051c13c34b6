import type { MaskStyle } from "./mask-text.js";
import type { Granularity } from "./segment-text.js";

/** One translated text. */
export interface TranslationOutput {
	text: string;
	/** The engine stopped at its length limit (an LLM translator's max_tokens). */
	truncated?: boolean;
}

export interface TranslationRequest {
	/** Source language code (`en`). */
	source: string;
	/** Target language code (`th`). */
	target: string;
	signal?: AbortSignal;
}

/**
 * A machine-translation engine: Google Cloud Translation v2, an OpenAI-compatible MT endpoint, or the chat
 * model itself through translation prompts. It declares how protected spans travel through it (`maskStyle`)
 * and how much text it takes at once (`granularity`); the pipeline masks, segments and checks.
 */
export interface TranslationBackend {
	/** `google-v2` or `chat`. */
	readonly kind: string;
	readonly maskStyle: MaskStyle;
	readonly granularity: Granularity;
	/** Records worth translating at once. */
	readonly concurrency: number;
	/** Redacted URL or model directory (manifest). */
	readonly location: string;
	/** The engine's model name, when it has one. */
	readonly model?: string;
	/** Remote retries made so far. */
	readonly retries: number;
	/** Translates the texts (masked already); returns one output per text, in order. */
	translate(texts: string[], request: TranslationRequest): Promise<TranslationOutput[]>;
	close(): Promise<void>;
}
