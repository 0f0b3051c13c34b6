import { Tokenizer } from "tokenizers";
import type { TokenizerFamily } from "./base-tokenizer.js";
import type { TokenizerJson } from "./tokenizer-json.js";

const SPM_WORD = /▁*[^▁]+|▁+/gu;

/**
 * Splits text into the pre-tokens the BPE model sees, with the tokenizer's own normalizer and pre-tokenizer
 * (run by the Rust binding on a copy with an empty model, which loads instantly). SentencePiece-style BPE has
 * no pre-tokenizer that splits words, but its pieces carry ▁ only in front (and whitespace-only pieces score
 * lowest, so they never merge into a word), so its pre-tokens are the ▁-initial chunks of the normalized text.
 */
export class PreTokenizer {
	private readonly shell: Tokenizer;

	constructor(
		json: TokenizerJson,
		readonly family: TokenizerFamily,
	) {
		this.shell = Tokenizer.fromString(JSON.stringify({ ...json, added_tokens: [], model: { ...json.model, vocab: {}, merges: [] } }));
	}

	split(text: string): string[] {
		const normalized = this.shell.getNormalizer()?.normalizeString(text) ?? text;
		const pieces = this.shell.getPreTokenizer()?.preTokenizeString(normalized).map(([piece]) => piece) ?? [normalized];
		if (this.family === "byte-level-bpe") return pieces;
		return pieces.flatMap((piece) => piece.match(SPM_WORD) ?? []);
	}
}
