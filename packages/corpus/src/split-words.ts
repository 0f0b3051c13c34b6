import { getLanguage, isKnownLanguage } from "@transllm/core";

const segmenters = new Map<string, Intl.Segmenter>();

/** A cached ICU word segmenter for a language (dictionary-based for Thai, Lao, Khmer, Myanmar, Chinese, Japanese). */
export function wordSegmenter(lang: string): Intl.Segmenter {
	let segmenter = segmenters.get(lang);
	if (!segmenter) {
		segmenter = new Intl.Segmenter(isKnownLanguage(lang) ? getLanguage(lang).bcp47 : lang, { granularity: "word" });
		segmenters.set(lang, segmenter);
	}
	return segmenter;
}

/** Whether a language writes spaces between words (unknown codes are assumed to). */
export function isSpaceDelimited(lang: string): boolean {
	return isKnownLanguage(lang) ? getLanguage(lang).spaceDelimited : true;
}

/**
 * The words of a text. Space-delimited languages split on whitespace (as Gopher's repetition statistics and
 * LLaMAX Sec. 2.1 do); languages written without spaces (Thai, Chinese …) use `Intl.Segmenter`'s word-like
 * segments, the dictionary-based segmentation ICU ships with Node.
 */
export function splitWords(text: string, lang: string): string[] {
	return [...sharedWords(text, lang)];
}

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
		for (const segment of wordSegmenter(lang).segment(text)) {
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

/** `Intl.Segmenter` segment boundaries of `text` (ascending, ending with `text.length`), shared like `sharedWords`. */
export function sharedBoundaries(text: string, lang: string): readonly number[] {
	return segmentOnce(text, lang, false).boundaries as number[];
}

/** Every segment of a text in order (words and the spaces and punctuation between them), to rebuild it after edits. */
export function segmentWords(text: string, lang: string): { text: string; index: number; isWord: boolean }[] {
	const segments: { text: string; index: number; isWord: boolean }[] = [];
	for (const segment of wordSegmenter(lang).segment(text)) segments.push({ text: segment.segment, index: segment.index, isWord: segment.isWordLike === true });
	return segments;
}
