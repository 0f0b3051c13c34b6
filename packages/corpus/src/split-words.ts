import { isSpaceDelimited, segmentText, splitWords } from "@transllm/core";

// Word segmentation is @transllm/core's (`segmentText`: ICU words in bounded windows, linear in the text).
export { isSpaceDelimited, splitWords };

// The filters of a chain see one document after another: the last document's segmentation is kept so that the
// n-gram, length and word-list filters segment it once between them (ICU segmentation is their main cost).
let cached: { text: string; lang: string; words?: string[]; boundaries?: number[] } | undefined;

function segmentOnce(text: string, lang: string, needWords: boolean): { words?: string[]; boundaries?: number[] } {
	if (cached === undefined || cached.text !== text || cached.lang !== lang) cached = { text, lang };
	const entry = cached;
	const spaced = isSpaceDelimited(lang);
	if (needWords && entry.words === undefined && spaced) entry.words = text.split(/\s+/u).filter((word) => word !== "");
	if ((needWords && entry.words === undefined) || (!needWords && entry.boundaries === undefined)) {
		const words: string[] = [];
		const boundaries: number[] = [];
		for (const segment of segmentText(text, lang)) {
			boundaries.push(segment.index);
			if (!spaced && segment.isWordLike) words.push(segment.segment);
		}
		boundaries.push(text.length);
		entry.boundaries = boundaries;
		if (!spaced) entry.words = words;
	}
	return entry;
}

/** `splitWords(text, lang)` without a copy, shared with the other filters of the chain: never modify it. */
export function sharedWords(text: string, lang: string): readonly string[] {
	return segmentOnce(text, lang, true).words as string[];
}

/** Word segment boundaries of `text` (ascending, ending with `text.length`), shared like `sharedWords`. */
export function sharedBoundaries(text: string, lang: string): readonly number[] {
	return segmentOnce(text, lang, false).boundaries as number[];
}

/** Every segment of a text in order (words and the spaces and punctuation between them), to rebuild it after edits. */
export function segmentWords(text: string, lang: string): { text: string; index: number; isWord: boolean }[] {
	const segments: { text: string; index: number; isWord: boolean }[] = [];
	for (const segment of segmentText(text, lang)) segments.push({ text: segment.segment, index: segment.index, isWord: segment.isWordLike });
	return segments;
}
