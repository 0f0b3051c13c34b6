import { RESPONSE_TOKEN, getLanguage, languageIdToken } from "@transllm/core";

/**
 * The English language-ID token ⟨α⟩ with α = English: it opens the TCOT chain (the query translated into English)
 * and directs translation into English (`../shared/papers/000_1ce36f3811662daf.txt` Sec. 2.2.2–2.2.3).
 */
export const EN_TOKEN = "<EN>";

/** ⟨RESPONSE⟩: directs the model to answer the English query with its original knowledge (Sec. 2.2.3, recovery KD). */
export { RESPONSE_TOKEN };

/**
 * The language-ID token ⟨β⟩ of a language (`th` → `<TH>`, `en` → `<EN>`), from core's language registry. In the
 * TCOT chain it introduces the target-language answer; in translation data it introduces the translation.
 */
export function targetLanguageToken(lang: string): string {
	return languageIdToken(lang);
}

/**
 * The special tokens a TransLLM model needs for these target languages: `<EN>`, `<RESPONSE>` and one
 * language-ID token per target language, in that order, without duplicates. Add them to the tokenizer
 * (LLaMA-Factory `add_special_tokens`, `tokenizer.add_special_tokens`) before training.
 */
export function tcotSpecialTokens(langs: readonly string[]): string[] {
	const tokens = [EN_TOKEN, RESPONSE_TOKEN];
	for (const lang of langs) {
		const token = targetLanguageToken(lang);
		if (!tokens.includes(token)) tokens.push(token);
	}
	return tokens;
}

/** The transllm code of a language (`tha` → `th`); an unknown code is an UnknownLanguageError. */
export function normalizeLanguage(lang: string): string {
	return getLanguage(lang).code;
}
