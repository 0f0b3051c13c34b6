import type { SegmentedWord } from "./continued-bpe.js";
import type { TokenizerFamily } from "./base-tokenizer.js";
import type { EncodedLine } from "./hf-tokenizers.js";

const BYTE_PIECE = /^<0x([0-9A-F]{2})>$/;
const lenient = new TextDecoder("utf-8", { ignoreBOM: true });

/** The base segmentation of a corpus, pre-token by pre-token, with counts. */
export interface CorpusSegmentation {
	words: SegmentedWord[];
	/**
	 * SentencePiece family: characters the base vocabulary lacks (they fell back to `<0xNN>` pieces), with
	 * counts. Continued BPE works on characters there, as SentencePiece does, so such a character can only be
	 * part of a new piece once it is a piece itself.
	 */
	unknownChars: Map<string, number>;
	/** The first corpus line (see `add`) holding each of `unknownChars`. */
	unknownCharLines: Map<string, number>;
	tokens: number;
}

/**
 * Collects the base segmentation of a corpus, one encoded pre-token (or line) at a time, with counts.
 * Byte-level BPE: each word id of the encoding is a word. SentencePiece BPE: pieces never contain ▁ after their
 * first character, so a word starts at each piece that begins with ▁, and runs of `<0xNN>` byte pieces are read
 * back as the characters they encode (continued BPE merges characters there, as SentencePiece does).
 */
export class CorpusSegmenter {
	readonly result: CorpusSegmentation = { words: [], unknownChars: new Map(), unknownCharLines: new Map(), tokens: 0 };
	private readonly index = new Map<string, number>();

	constructor(readonly family: TokenizerFamily) {}

	private count = 1;
	private line: number | undefined;

	private addWord(symbols: string[]): void {
		if (symbols.length === 0) return;
		const key = symbols.join("\u0000");
		const at = this.index.get(key);
		if (at === undefined) {
			this.index.set(key, this.result.words.length);
			this.result.words.push(this.line === undefined ? { symbols, count: this.count } : { symbols, count: this.count, line: this.line });
		} else {
			const word = this.result.words[at] as SegmentedWord;
			word.count += this.count;
			if (this.line !== undefined && (word.line === undefined || this.line < word.line)) word.line = this.line;
		}
	}

	/** Adds the encoding of a text seen `count` times, first on corpus line `line` (0-based, blank lines not counted). */
	add(line: EncodedLine, count = 1, lineNumber?: number): void {
		this.count = count;
		this.line = lineNumber;
		this.result.tokens += line.tokens.length * count;
		if (this.family === "byte-level-bpe") {
			let current: string[] = [];
			let currentWord: number | null | undefined = -1;
			line.tokens.forEach((token, i) => {
				const word = line.wordIds[i];
				if (word !== currentWord || word === null || word === undefined) {
					this.addWord(current);
					current = [];
					currentWord = word;
				}
				current.push(token);
			});
			this.addWord(current);
			return;
		}
		let current: string[] = [];
		let bytes: number[] = [];
		const flushBytes = (): void => {
			if (bytes.length === 0) return;
			for (const char of lenient.decode(Uint8Array.from(bytes))) {
				current.push(char);
				this.result.unknownChars.set(char, (this.result.unknownChars.get(char) ?? 0) + this.count);
				const first = this.result.unknownCharLines.get(char);
				if (this.line !== undefined && (first === undefined || this.line < first)) this.result.unknownCharLines.set(char, this.line);
			}
			bytes = [];
		};
		for (const token of line.tokens) {
			const byte = BYTE_PIECE.exec(token);
			if (byte) {
				bytes.push(Number.parseInt(byte[1] as string, 16));
				continue;
			}
			flushBytes();
			if (token.startsWith("▁")) {
				this.addWord(current);
				current = [];
			}
			current.push(token);
		}
		flushBytes();
		this.addWord(current);
	}
}
