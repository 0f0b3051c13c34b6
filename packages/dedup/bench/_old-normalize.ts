const INVISIBLE = /[\u00ad\u200b-\u200d\u2060\ufeff]/g;
const PUNCTUATION_OR_SPACE = /[\p{P}\p{S}\s]+/gu;
export function oldNormalize(text: string): string {
	return text.normalize("NFKC").toLowerCase().replace(INVISIBLE, "").replace(PUNCTUATION_OR_SPACE, " ").trim();
}
