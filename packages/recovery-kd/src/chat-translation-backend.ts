import type { GenerationBackend } from "./generation-backend.js";
import { Semaphore } from "./semaphore.js";
import { extractTranslation, translationMessages } from "./translation-prompt.js";
import type { TranslationBackend, TranslationOutput } from "./translation-backend.js";

export interface ChatTranslationOptions {
	/** The chat model that translates: the model itself (local or served) or an MT model behind an OpenAI-compatible endpoint. */
	generator: GenerationBackend;
	/** Most new tokens per translated text (default 2048: Thai takes several tokens per word in Llama-2's vocabulary). */
	maxTokens?: number;
}

/**
 * Translation through chat prompts (greedy), with any GenerationBackend: the chat model itself, locally or
 * behind an OpenAI-compatible server, or an MT model served the same way. Masks are `⟦n⟧` tokens the prompt
 * asks the model to keep; prose goes in blocks so the model sees context.
 */
export function createChatTranslationBackend(options: ChatTranslationOptions): TranslationBackend {
	const { generator } = options;
	const slots = new Semaphore(generator.concurrency);
	return {
		kind: "chat",
		maskStyle: "placeholder",
		granularity: "block",
		concurrency: generator.concurrency,
		location: generator.location,
		model: generator.model,
		get retries() {
			return generator.retries;
		},
		async translate(texts, request): Promise<TranslationOutput[]> {
			return Promise.all(
				texts.map((text) =>
					slots.run(async () => {
						const messages = translationMessages(text, request.source, request.target, { hasMasks: /⟦\d+⟧/u.test(text) });
						const result = await generator.generate(messages, { temperature: 0, max_tokens: options.maxTokens ?? 2048 }, request.signal);
						return { text: extractTranslation(result.text, text), truncated: result.finishReason === "length" };
					}),
				),
			);
		},
		close: () => generator.close(),
	};
}
