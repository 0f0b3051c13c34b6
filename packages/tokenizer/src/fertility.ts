import { readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { SentencePieceProcessor } from "@sctg/sentencepiece-js";
import { ConfigError, InputError, countWords, getLanguage } from "@transllm/core";
import { encodeLinesRust, rustTokenizer } from "./hf-tokenizers.js";
import type { TokenizerJson } from "./tokenizer-json.js";

/** Anything that turns lines into token ids (without special tokens). */
export interface LineEncoder {
	name: string;
	encode(lines: readonly string[]): Promise<number[][]>;
}

/** Fertility of a tokenizer on a corpus. */
export interface Fertility {
	lines: number;
	tokens: number;
	/** Unicode code points, whitespace excluded. */
	chars: number;
	words: number;
	tokensPerChar: number;
	tokensPerWord: number;
}

// Words are counted by @transllm/core's `countWords`: whitespace-separated for languages written with spaces,
// ICU's dictionary words (windowed, linear in the line) for those without (Thai, Lao, Khmer, Myanmar, CJK).
export { countWords };

/** Tokens per character and per word of `encoder` on `lines` of language `lang`. */
export async function measureFertility(encoder: LineEncoder, lines: readonly string[], lang: string): Promise<Fertility> {
	getLanguage(lang); // an unknown code is a clear error, not whitespace words
	const encoded = await encoder.encode(lines);
	let tokens = 0;
	let chars = 0;
	let words = 0;
	lines.forEach((line, i) => {
		tokens += (encoded[i] as number[]).length;
		for (const char of line) if (!/\s/u.test(char)) chars += 1;
		words += countWords(line, lang);
	});
	if (words === 0) throw new InputError("the corpus has no words: fertility (tokens per word) is undefined", { field: "corpus" });
	return { lines: lines.length, tokens, chars, words, tokensPerChar: chars > 0 ? tokens / chars : 0, tokensPerWord: words > 0 ? tokens / words : 0 };
}

/**
 * An encoder for a tokenizer file or model directory: tokenizer.json through the Rust `tokenizers` binding,
 * tokenizer.model through SentencePiece itself (the WASM build; any model type). A directory uses its
 * tokenizer.json when it has one.
 */
export async function loadLineEncoder(path: string): Promise<LineEncoder> {
	let file = path;
	const info = await stat(path).catch(() => undefined);
	if (!info) throw new ConfigError(`tokenizer not found: ${path}`);
	if (info.isDirectory()) {
		const json = join(path, "tokenizer.json");
		const model = join(path, "tokenizer.model");
		if (await stat(json).catch(() => undefined)) file = json;
		else if (await stat(model).catch(() => undefined)) file = model;
		else throw new ConfigError(`${path}: no tokenizer.json or tokenizer.model`);
	}
	if (basename(file).endsWith(".json")) {
		let parsed: unknown;
		try {
			parsed = JSON.parse(await readFile(file, "utf8"));
		} catch (error) {
			throw new InputError(`not valid JSON: ${(error as Error).message}`, { file });
		}
		// Any model the Rust binding loads (BPE, Unigram, WordPiece, ...): fertility compares tokenizers, not only
		// the BPE ones `extend` can grow.
		if (typeof parsed !== "object" || parsed === null || typeof (parsed as { model?: unknown }).model !== "object") throw new InputError("not a tokenizer.json: no model object", { file, field: "model" });
		try {
			return tokenizerJsonEncoder(parsed as TokenizerJson, file);
		} catch (error) {
			throw new InputError(`the tokenizers library cannot load it: ${(error as Error).message}`, { file });
		}
	}
	const processor = new SentencePieceProcessor();
	await processor.loadFromB64StringModel((await readFile(file)).toString("base64"));
	return { name: file, encode: async (lines) => lines.map((line) => processor.encodeIds(line)) };
}

/** An encoder for an in-memory tokenizer.json (the Rust binding). */
export function tokenizerJsonEncoder(json: Parameters<typeof rustTokenizer>[0], name = "tokenizer.json"): LineEncoder {
	const tokenizer = rustTokenizer(json);
	return { name, encode: async (lines) => (await encodeLinesRust(tokenizer, lines)).map((e) => e.ids) };
}
