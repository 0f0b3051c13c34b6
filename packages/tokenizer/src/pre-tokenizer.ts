import { Tokenizer as JsTokenizer } from "@huggingface/tokenizers";
import type { TokenizerFamily } from "./base-tokenizer.js";
import type { TokenizerJson } from "./tokenizer-json.js";

const SPM_WORD = /▁*[^▁]+|▁+/gu;

interface TextStep {
	normalize?(text: string): string;
	pre_tokenize_text?(text: string): string[];
}

/**
 * Splits text into the pre-tokens the BPE model sees, with the tokenizer's own normalizer and pre-tokenizer as
 * @huggingface/tokenizers implements them (a test holds the result to the Rust binding's). Only the first step
 * of a Sequence pre-tokenizer runs on each line; later steps (Llama-3's ByteLevel) run once per distinct piece,
 * since a Sequence applies each step to each piece of the previous one independently.
 *
 * SentencePiece-style BPE has no pre-tokenizer that splits words, but its pieces carry ▁ only in front (and
 * whitespace-only pieces score lowest, so they never merge into a word): its pre-tokens are the ▁-initial chunks
 * of the normalized text.
 */
export class PreTokenizer {
	private readonly normalizer: TextStep | null;
	private readonly steps: TextStep[];
	private readonly memo: Map<string, string[]>[];

	constructor(
		json: TokenizerJson,
		readonly family: TokenizerFamily,
	) {
		const shell = { ...json, added_tokens: [], normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, model: { ...json.model, vocab: {}, merges: [] } };
		this.normalizer = json.normalizer ? (new JsTokenizer({ ...shell, normalizer: json.normalizer }, {}).normalizer as TextStep | null) : null;
		const pre = json.pre_tokenizer as { type?: string; pretokenizers?: unknown[] } | null;
		const configs = pre ? (pre.type === "Sequence" ? (pre.pretokenizers ?? []) : [pre]) : [];
		this.steps = configs.map((config) => new JsTokenizer({ ...shell, pre_tokenizer: config }, {}).pre_tokenizer as TextStep);
		this.memo = this.steps.map(() => new Map());
	}

	split(text: string): string[] {
		let pieces = [this.normalizer?.normalize ? this.normalizer.normalize(text) : text];
		this.steps.forEach((step, index) => {
			const memo = this.memo[index] as Map<string, string[]>;
			const out: string[] = [];
			for (const piece of pieces) {
				let split = index === 0 ? undefined : memo.get(piece);
				if (!split) {
					split = step.pre_tokenize_text ? step.pre_tokenize_text(piece) : [piece];
					if (index > 0) memo.set(piece, split);
				}
				out.push(...split);
			}
			pieces = out;
		});
		if (this.family === "byte-level-bpe") return pieces;
		return pieces.flatMap((piece) => piece.match(SPM_WORD) ?? []);
	}
}
