// Zero-width and invisible format characters that change bytes but not what a reader sees (ZWSP, ZWNJ, ZWJ,
// word joiner, BOM, soft hyphen). Thai web text is full of ZWSP used as a hidden word break.
const INVISIBLE = /[\u00ad\u200b-\u200d\u2060\ufeff]/g;
// Punctuation (and symbols) split words: "rights," and "rights" are the same word for near-duplicate purposes.
const PUNCTUATION_OR_SPACE = /[\p{P}\p{S}\s]+/gu;

/**
 * Normalises a document before shingling: Unicode NFKC, case folding, invisible characters removed,
 * punctuation and every run of whitespace turned into a single space, trimmed. Two documents that differ only
 * in these respects get the same shingles.
 */
export function normalizeText(text: string): string {
	return text.normalize("NFKC").toLowerCase().replace(INVISIBLE, "").replace(PUNCTUATION_OR_SPACE, " ").trim();
}
