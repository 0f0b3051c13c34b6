import { ConfigError } from "@transllm/core";
import { readMerges } from "./tokenizer-json.js";
import type { BpeModelJson } from "./tokenizer-json.js";

const byteToken = (byte: number): string => `<0x${byte.toString(16).toUpperCase().padStart(2, "0")}>`;

/**
 * The BPE model of a tokenizer.json applied to one pre-token, as the `tokenizers` library does: characters
 * (byte-fallback pieces for characters outside the vocabulary), then the lowest-ranked adjacent merge, leftmost
 * first, until none applies; with `ignore_merges`, a pre-token that is a whole vocabulary entry is kept as is.
 * Continued BPE needs the base segmentation of every distinct pre-token of the corpus; this saves building the
 * Rust tokenizer (seconds for Llama-3's 280k merges), and a test holds it to the Rust results.
 */
export class BpeEncoder {
	private readonly ranks = new Map<string, number>();
	private readonly vocab: Record<string, number>;
	private readonly byteFallback: boolean;
	private readonly ignoreMerges: boolean;

	constructor(model: BpeModelJson, file = "tokenizer.json") {
		for (const option of ["continuing_subword_prefix", "end_of_word_suffix"] as const) {
			if (model[option] !== null && model[option] !== undefined && model[option] !== "") throw new ConfigError(`${file}: model.${option} is set; only BPE without word prefixes/suffixes (Llama, Mistral, GPT-style) can be extended`);
		}
		this.vocab = model.vocab;
		this.byteFallback = model.byte_fallback === true;
		this.ignoreMerges = model.ignore_merges === true;
		// A "a b" merge line is already the key; pairs are joined (and both forms validated by readMerges).
		const merges = model.merges as unknown[];
		const keys = typeof merges[0] === "string" && merges.every((m) => typeof m === "string" && m.indexOf(" ", 1) > 0) ? (merges as string[]) : readMerges(model, file).merges.map(([a, b]) => `${a} ${b}`);
		keys.forEach((key, rank) => {
			if (!this.ranks.has(key)) this.ranks.set(key, rank);
		});
	}

	/** Whether the model already has the merge `left right`. */
	hasMerge(left: string, right: string): boolean {
		return this.ranks.has(`${left} ${right}`);
	}

	/** The tokens of one pre-token. */
	encode(word: string): string[] {
		if (this.ignoreMerges && this.vocab[word] !== undefined) return [word];
		const symbols: string[] = [];
		for (const char of word) {
			if (this.vocab[char] !== undefined || !this.byteFallback) symbols.push(char);
			else for (const byte of new TextEncoder().encode(char)) symbols.push(byteToken(byte));
		}
		// ranks[i] is the rank of the pair (symbols[i], symbols[i + 1]); only the neighbours of a merge change.
		const rankOf = (i: number): number => this.ranks.get(`${symbols[i]} ${symbols[i + 1]}`) ?? Number.POSITIVE_INFINITY;
		const ranks: number[] = [];
		for (let i = 0; i + 1 < symbols.length; i++) ranks.push(rankOf(i));
		for (;;) {
			let best = -1;
			let bestRank = Number.POSITIVE_INFINITY;
			for (let i = 0; i < ranks.length; i++) {
				if ((ranks[i] as number) < bestRank) {
					bestRank = ranks[i] as number;
					best = i;
				}
			}
			if (best < 0) return symbols;
			symbols.splice(best, 2, `${symbols[best]}${symbols[best + 1]}`);
			ranks.splice(best, 1);
			if (best < ranks.length) ranks[best] = rankOf(best);
			if (best > 0) ranks[best - 1] = rankOf(best - 1);
		}
	}
}
