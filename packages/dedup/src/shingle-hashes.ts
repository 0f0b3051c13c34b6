import { getLanguage, pushWordLikeSegments } from "@transllm/core";
import { murmur3Bytes } from "./murmur3.js";
import { normalizeText } from "./normalize-text.js";

/**
 * What a shingle is made of. `auto` (default): a word where the script writes spaces, a character where it does
 * not (Thai, Lao, Khmer, Myanmar, kana, CJK ideographs: the spaces between such characters are dropped);
 * `word`: words, with `Intl.Segmenter` words for scripts without spaces; `char`: every code point.
 */
export type ShingleUnit = "auto" | "word" | "char";

export interface ShinglerOptions {
	/** Shingle length in units (default 5, as GPT-3's fuzzy dedup and datatrove). */
	ngram?: number;
	/** `auto` (default), `word` or `char` (see `ShingleUnit`). */
	unit?: ShingleUnit;
	/** Language code of the corpus; scripts without spaces (th, lo, km, my, zh, ja) are word-segmented. */
	lang?: string;
	/** Seed of the shingle hash (default 0). */
	seed?: number;
}

/** The result of shingling one document. */
export interface ShingleCount {
	/** Shingles hashed into `Shingler.hashes[0, shingles)` (with repeats). */
	shingles: number;
	/** Words (or code points) after normalisation. */
	units: number;
}

// Scripts written without spaces between words: Thai, Lao, Myanmar, Khmer, kana, CJK ideographs.
const UNSPACED_SCRIPT = /[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/;
const SPACE = 0x20;
// A space between two such characters: a phrase break in Thai, typed differently by every copy of a text.
const SPACE_IN_UNSPACED = /(?<=[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[\ud840-\ud87f][\udc00-\udfff]) (?=[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ud840-\ud87f])/g;

/** Whether a code point belongs to a script written without spaces (the ranges of UNSPACED_SCRIPT, and CJK Ext. B–F). */
function isUnspacedCodePoint(cp: number): boolean {
	return (
		(cp >= 0x0e00 && cp <= 0x0eff) ||
		(cp >= 0x1000 && cp <= 0x109f) ||
		(cp >= 0x1780 && cp <= 0x17ff) ||
		(cp >= 0x3040 && cp <= 0x30ff) ||
		(cp >= 0x3400 && cp <= 0x4dbf) ||
		(cp >= 0x4e00 && cp <= 0x9fff) ||
		(cp >= 0xf900 && cp <= 0xfaff) ||
		(cp >= 0x20000 && cp <= 0x2ffff)
	);
}

/** Whether `text[start, end)` is a non-empty run of ASCII letters and digits or Latin-1 letters. */
function isPlainWord(text: string, start: number, end: number): boolean {
	if (end <= start) return false;
	for (let i = start; i < end; i++) {
		const c = text.charCodeAt(i);
		if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || (c >= 0xdf && c <= 0xff && c !== 0xf7))) return false;
	}
	return true;
}

/**
 * Turns a document into 32-bit shingle hashes: normalise, split into words (on spaces, or with
 * `Intl.Segmenter` word segmentation where the script has no spaces — whitespace shingling finds no Thai
 * duplicates at all), then hash every run of `ngram` words, as the UTF-8 of the words joined by one space,
 * with seeded MurmurHash3. Buffers are reused: one Shingler per thread.
 */
export class Shingler {
	readonly ngram: number;
	readonly unit: ShingleUnit;
	readonly seed: number;
	/** Shingle hashes of the last document (valid up to `shingles`). */
	hashes = new Uint32Array(4096);
	private readonly lang: string | undefined;
	private readonly alwaysSegment: boolean;
	private readonly encoder = new TextEncoder();
	private bytes = new Uint8Array(16384);
	private starts = new Int32Array(4096);
	private ends = new Int32Array(4096);

	constructor(options: ShinglerOptions = {}) {
		this.ngram = options.ngram ?? 5;
		this.unit = options.unit ?? "auto";
		this.seed = options.seed ?? 0;
		if (!Number.isInteger(this.ngram) || this.ngram < 1) throw new RangeError(`ngram must be a positive integer, got ${this.ngram}`);
		const language = options.lang === undefined ? undefined : getLanguage(options.lang);
		this.alwaysSegment = language !== undefined && !language.spaceDelimited;
		this.lang = options.lang;
	}

	/**
	 * The words of a normalised text joined by single spaces: `Intl.Segmenter` word segmentation where the
	 * script needs it. Only the runs of tokens that need a segmenter are segmented: a token of plain Latin
	 * letters and digits is one word to `Intl.Segmenter` too (UAX #29 never breaks inside it, and a space always
	 * breaks), so English inside Thai text, or a `--lang th` corpus's English documents, skip ICU. Segmenting
	 * the run whole, not word by word, is cheaper (each `segment()` call clones an ICU break iterator).
	 */
	canonicalWords(normalized: string): string {
		if (!this.alwaysSegment && !UNSPACED_SCRIPT.test(normalized)) return normalized;
		const words: string[] = [];
		const length = normalized.length;
		let run = -1;
		for (let start = 0; start < length; ) {
			let end = normalized.indexOf(" ", start);
			if (end < 0) end = length;
			if (isPlainWord(normalized, start, end)) {
				if (run >= 0) this.segmentWords(normalized.slice(run, start - 1), words);
				run = -1;
				words.push(normalized.slice(start, end));
			} else if (run < 0) run = start;
			start = end + 1;
		}
		if (run >= 0) this.segmentWords(run === 0 ? normalized : normalized.slice(run), words);
		return words.join(" ");
	}

	private segmentWords(text: string, words: string[]): void {
		pushWordLikeSegments(text, this.lang, words);
	}

	/**
	 * The text `auto` shingles: the normalised text without the spaces between two characters of scripts written
	 * without spaces. Its units are each such character and each run of other characters between spaces; a
	 * shingle is the text from the start of its first unit to the end of its last.
	 */
	static autoCanonical(normalized: string): string {
		return UNSPACED_SCRIPT.test(normalized) ? normalized.replace(SPACE_IN_UNSPACED, "") : normalized;
	}

	/** Shingles `text` into `hashes`. Documents shorter than one shingle report `shingles: 0`. */
	shingle(text: string): ShingleCount {
		const normalized = normalizeText(text);
		if (this.unit === "auto") return this.shingleAuto(Shingler.autoCanonical(normalized));
		const canonical = this.unit === "word" ? this.canonicalWords(normalized) : normalized;
		if (canonical.length === 0) return { shingles: 0, units: 0 };
		if (this.bytes.length < canonical.length * 3) this.bytes = new Uint8Array(canonical.length * 3 + 1024);
		const byteLength = this.encoder.encodeInto(canonical, this.bytes).written;
		const bytes = this.bytes;
		// starts[i] = first byte of unit i; starts[units] = end (+1 for words, to drop the separator).
		let units = 0;
		if (this.starts.length < byteLength + 2) this.starts = new Int32Array(byteLength + 1024);
		const starts = this.starts;
		if (this.unit === "word") {
			starts[units++] = 0;
			for (let i = 0; i < byteLength; i++) if (bytes[i] === SPACE) starts[units++] = i + 1;
			starts[units] = byteLength + 1;
		} else {
			for (let i = 0; i < byteLength; i++) if (((bytes[i] as number) & 0xc0) !== 0x80) starts[units++] = i;
			starts[units] = byteLength;
		}
		const separator = this.unit === "word" ? 1 : 0;
		const shingles = Math.max(0, units - this.ngram + 1);
		if (this.hashes.length < shingles) this.hashes = new Uint32Array(shingles + 1024);
		const hashes = this.hashes;
		for (let i = 0; i < shingles; i++) {
			hashes[i] = murmur3Bytes(bytes, starts[i] as number, (starts[i + this.ngram] as number) - separator, this.seed);
		}
		return { shingles, units };
	}

	/** `auto` shingles of an `autoCanonical` text: units found on its UTF-8 bytes, each shingle one byte range. */
	private shingleAuto(canonical: string): ShingleCount {
		if (canonical.length === 0) return { shingles: 0, units: 0 };
		if (this.bytes.length < canonical.length * 3) this.bytes = new Uint8Array(canonical.length * 3 + 1024);
		const byteLength = this.encoder.encodeInto(canonical, this.bytes).written;
		const bytes = this.bytes;
		if (this.starts.length < byteLength + 2) {
			this.starts = new Int32Array(byteLength + 1024);
			this.ends = new Int32Array(byteLength + 1024);
		}
		const { starts, ends } = this;
		let units = 0;
		let inWord = false;
		for (let i = 0; i < byteLength; ) {
			const b = bytes[i] as number;
			if (b === SPACE) {
				if (inWord) ends[units - 1] = i;
				inWord = false;
				i += 1;
				continue;
			}
			let width = 1;
			let cp = b;
			if (b >= 0xf0) {
				width = 4;
				cp = ((b & 0x07) << 18) | (((bytes[i + 1] as number) & 0x3f) << 12) | (((bytes[i + 2] as number) & 0x3f) << 6) | ((bytes[i + 3] as number) & 0x3f);
			} else if (b >= 0xe0) {
				width = 3;
				cp = ((b & 0x0f) << 12) | (((bytes[i + 1] as number) & 0x3f) << 6) | ((bytes[i + 2] as number) & 0x3f);
			} else if (b >= 0xc0) width = 2;
			if (isUnspacedCodePoint(cp)) {
				if (inWord) ends[units - 1] = i;
				starts[units] = i;
				ends[units] = i + width;
				units += 1;
				inWord = false;
			} else if (!inWord) {
				starts[units] = i;
				units += 1;
				inWord = true;
			}
			i += width;
		}
		if (inWord) ends[units - 1] = byteLength;
		const n = this.ngram;
		const shingles = Math.max(0, units - n + 1);
		if (this.hashes.length < shingles) this.hashes = new Uint32Array(shingles + 1024);
		const hashes = this.hashes;
		for (let i = 0; i < shingles; i++) hashes[i] = murmur3Bytes(bytes, starts[i] as number, ends[i + n - 1] as number, this.seed);
		return { shingles, units };
	}
}

/** Sorts and de-duplicates `hashes[0, count)` in place; returns the number of distinct hashes. */
export function uniqueSorted(hashes: Uint32Array, count: number): number {
	const view = hashes.subarray(0, count);
	view.sort();
	let distinct = 0;
	for (let i = 0; i < count; i++) if (i === 0 || view[i] !== view[distinct - 1]) view[distinct++] = view[i] as number;
	return distinct;
}
