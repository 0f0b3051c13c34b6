import { Tokenizer as JsTokenizer } from "@huggingface/tokenizers";
import { Tokenizer as RustTokenizer } from "tokenizers";
import type { TokenizerJson } from "./tokenizer-json.js";

/** One encoded line: ids, token strings and the pre-token (word) index of each token. */
export interface EncodedLine {
	ids: number[];
	tokens: string[];
	wordIds: (number | null | undefined)[];
}

/** The Rust `tokenizers` binding loaded from a tokenizer.json object. */
export function rustTokenizer(json: TokenizerJson): RustTokenizer {
	return RustTokenizer.fromString(JSON.stringify(json));
}

/** Encodes lines with the Rust binding (batched, its own threads), without special tokens. */
export async function encodeLinesRust(tokenizer: RustTokenizer, lines: readonly string[], batchSize = 512): Promise<EncodedLine[]> {
	const out: EncodedLine[] = [];
	for (let start = 0; start < lines.length; start += batchSize) {
		const batch = await tokenizer.encodeBatch(lines.slice(start, start + batchSize), { addSpecialTokens: false });
		for (const encoding of batch) out.push({ ids: encoding.getIds(), tokens: encoding.getTokens(), wordIds: encoding.getWordIds() });
	}
	return out;
}

/** Encodes one line with the pure-JS tokenizer, without special tokens. */
export function encodeLineJs(tokenizer: JsTokenizer, line: string): number[] {
	return tokenizer.encode(line, { add_special_tokens: false }).ids;
}
