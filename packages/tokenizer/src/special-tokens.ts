import { getLanguage } from "@transllm/core";
import { tcotSpecialTokens } from "@transllm/tcot";

/**
 * The special tokens TransLLM adds for a target language: `<EN>`, `<RESPONSE>` and the target's language-ID
 * token (`../shared/papers/000_1ce36f3811662daf.txt` Sec. 3.1: 3 special tokens; Sec. 2.2.2–2.2.3), exactly as
 * @transllm/tcot writes them into the training data.
 */
export function transllmSpecialTokens(lang: string): string[] {
	return tcotSpecialTokens([getLanguage(lang).code]);
}
