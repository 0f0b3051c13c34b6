import { getLanguage, isKnownLanguage } from "./language-registry.js";

const segmenters = new Map<string, Intl.Segmenter>();

/** A cached ICU word segmenter for a language (dictionary-based for Thai, Lao, Khmer, Myanmar, Chinese, Japanese). */
export function wordSegmenter(lang: string | undefined): Intl.Segmenter {
	const key = lang ?? "";
	let segmenter = segmenters.get(key);
	if (!segmenter) {
		segmenter = new Intl.Segmenter(lang === undefined ? undefined : isKnownLanguage(lang) ? getLanguage(lang).bcp47 : lang, { granularity: "word" });
		segmenters.set(key, segmenter);
	}
	return segmenter;
}

/** Whether a language writes spaces between words (unknown codes are assumed to). */
export function isSpaceDelimited(lang: string): boolean {
	return isKnownLanguage(lang) ? getLanguage(lang).spaceDelimited : true;
}

/** One segment of `segmentText`: a word, or the spaces and punctuation between words. */
export interface TextSegment {
	segment: string;
	/** UTF-16 offset of the segment in the whole text. */
	index: number;
	isWordLike: boolean;
}

let progressListener: ((units: number) => void) | undefined;

/**
 * Sets the listener that hears of the UTF-16 units segmented, window by window, in texts longer than one window
 * (in this thread), and returns the previous one: a long document's progress (a 50 MB line takes ~30 s).
 */
export function setSegmentationProgress(listener: ((units: number) => void) | undefined): ((units: number) => void) | undefined {
	const previous = progressListener;
	progressListener = listener;
	return previous;
}

/** Windows shorter than this are segmented whole; longer text is cut at the first safe point past it. */
export const SEGMENTATION_WINDOW = 2048;
/** A window with no safe cut point is cut here (at a code-point boundary) so that cost stays linear. */
export const SEGMENTATION_MAX_WINDOW = 16 * SEGMENTATION_WINDOW;

// `Intl.Segmenter` over one string costs time quadratic in its length (5 s at 100k Thai characters, 68 s at
// 400k), so long text is segmented in windows. A window ends after a run of whitespace, or after a sentence
// terminal of a script written without spaces (。！？｡ ។ ៕ ။ ၊): UAX #29 breaks on both sides of those
// characters and ICU's dictionary engines (Thai, Lao, Khmer, Myanmar, CJK) only look inside runs of their own
// script, so every boundary is the one the whole text gets — unless the next character is one that WB4 attaches
// to what precedes it (a combining mark, a format character, ZWJ), where no cut is made.
const CUT_AFTER = /[\t\n\r \u3000\u3002\uff01\uff1f\uff61\u17d4\u17d5\u104a\u104b]/;
const ATTACHES = /[\p{M}\p{Cf}\t\n\r \u3000]/u;

function isCutPoint(text: string, at: number): boolean {
	return CUT_AFTER.test(text.charAt(at - 1)) && !ATTACHES.test(text.charAt(at));
}

/**
 * The windows `[start, end)` that `segmentText` segments one at a time: one window for text up to
 * `window` UTF-16 units; past that, each window ends at the first safe cut point at or after `window` units (see
 * above), or at `maxWindow` units where there is none (only there can a boundary differ from whole-text
 * segmentation: a 50 MB line of Thai with no space at all).
 */
export function* segmentationWindows(text: string, window = SEGMENTATION_WINDOW, maxWindow = SEGMENTATION_MAX_WINDOW): Generator<[number, number]> {
	const length = text.length;
	let start = 0;
	while (length - start > window) {
		let end = start + window;
		const limit = Math.min(length, start + maxWindow);
		while (end < limit && !isCutPoint(text, end)) end += 1;
		if (end >= length) break;
		if (end === limit) {
			// No safe point: keep surrogate pairs and combining sequences whole at least.
			while (end > start + 1 && ((text.charCodeAt(end) & 0xfc00) === 0xdc00 || ATTACHES.test(text.charAt(end)))) end -= 1;
		}
		yield [start, end];
		start = end;
	}
	yield [start, length];
}

export interface SegmentTextOptions {
	/** Hears of UTF-16 units segmented, window by window (progress through a long document). */
	onProgress?: (units: number) => void;
	/** Window length in UTF-16 units (default `SEGMENTATION_WINDOW`; the hard limit is 16×). */
	window?: number;
}

/**
 * Every segment of a text in order (words and what lies between them), as `Intl.Segmenter` gives them for the
 * whole text, in linear time: segmented in `segmentationWindows`. The one word segmentation of the packages
 * (corpus filters, dedup shingles, tokenizer fertility).
 */
export function* segmentText(text: string, lang: string | undefined, options: SegmentTextOptions = {}): Generator<TextSegment> {
	const { onProgress, window = SEGMENTATION_WINDOW } = options;
	const segmenter = wordSegmenter(lang);
	if (text.length <= window) {
		for (const s of segmenter.segment(text)) yield { segment: s.segment, index: s.index, isWordLike: s.isWordLike === true };
		onProgress?.(text.length);
		return;
	}
	for (const [start, end] of segmentationWindows(text, window, 16 * window)) {
		for (const s of segmenter.segment(text.slice(start, end))) yield { segment: s.segment, index: start + s.index, isWordLike: s.isWordLike === true };
		onProgress?.(end - start);
		progressListener?.(end - start);
	}
}

/**
 * Appends the word-like segments of `text` to `out` (ICU's words: no spaces, no punctuation), windowed as
 * `segmentText` is, without allocating a segment object per word.
 */
export function pushWordLikeSegments(text: string, lang: string | undefined, out: string[]): string[] {
	const segmenter = wordSegmenter(lang);
	if (text.length <= SEGMENTATION_WINDOW) {
		for (const s of segmenter.segment(text)) if (s.isWordLike) out.push(s.segment);
		return out;
	}
	for (const [start, end] of segmentationWindows(text)) {
		for (const s of segmenter.segment(text.slice(start, end))) if (s.isWordLike) out.push(s.segment);
		progressListener?.(end - start);
	}
	return out;
}

/**
 * The words of a text. Space-delimited languages split on whitespace (as Gopher's repetition statistics and
 * LLaMAX Sec. 2.1 do); languages written without spaces (Thai, Chinese …) take ICU's word-like segments
 * (`pushWordLikeSegments`).
 */
export function splitWords(text: string, lang: string): string[] {
	if (isSpaceDelimited(lang)) return text.split(/\s+/u).filter((word) => word !== "");
	return pushWordLikeSegments(text, lang, []);
}

/** `splitWords(text, lang).length`. */
export function countWords(text: string, lang: string): number {
	return splitWords(text, lang).length;
}
