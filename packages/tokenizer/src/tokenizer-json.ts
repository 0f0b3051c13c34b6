import { InputError } from "@transllm/core";

/** An entry of tokenizer.json's `added_tokens`. */
export interface AddedTokenJson {
	id: number;
	content: string;
	single_word: boolean;
	lstrip: boolean;
	rstrip: boolean;
	normalized: boolean;
	special: boolean;
}

/** A BPE `model` of tokenizer.json; other keys are kept as they are. */
export interface BpeModelJson {
	type: "BPE";
	vocab: Record<string, number>;
	/** `"a b"` strings (tokenizers < 0.20) or `["a", "b"]` pairs (newer); the input's form is kept on write. */
	merges: string[] | [string, string][];
	byte_fallback?: boolean;
	ignore_merges?: boolean;
	[key: string]: unknown;
}

/** A Hugging Face tokenizer.json with a BPE model. */
export interface TokenizerJson {
	added_tokens: AddedTokenJson[];
	normalizer: unknown;
	pre_tokenizer: unknown;
	post_processor: unknown;
	decoder: unknown;
	model: BpeModelJson;
	[key: string]: unknown;
}

/** Which merges form a tokenizer.json uses. */
export type MergesFormat = "string" | "pair";

/** The merges of a BPE model as pairs, and the form they were written in. */
export function readMerges(model: BpeModelJson, file = "tokenizer.json"): { merges: [string, string][]; format: MergesFormat } {
	if (!Array.isArray(model.merges)) throw new InputError("model.merges is not an array", { file, field: "model.merges" });
	const first = model.merges[0];
	const format: MergesFormat = Array.isArray(first) ? "pair" : "string";
	const merges = (model.merges as unknown[]).map((merge, index): [string, string] => {
		if (Array.isArray(merge) && merge.length === 2 && typeof merge[0] === "string" && typeof merge[1] === "string") return [merge[0], merge[1]];
		if (typeof merge === "string") {
			// A merge line splits at its one space; tokens never contain a literal space (they use ▁ or Ġ).
			const space = merge.indexOf(" ", 1);
			if (space > 0 && merge.indexOf(" ", space + 1) === -1) return [merge.slice(0, space), merge.slice(space + 1)];
		}
		throw new InputError(`malformed merge ${JSON.stringify(merge)}`, { file, field: `model.merges[${index}]` });
	});
	return { merges, format };
}

/** Writes merges back in the given form. */
export function formatMerges(merges: readonly (readonly [string, string])[], format: MergesFormat): string[] | [string, string][] {
	return format === "pair" ? merges.map(([a, b]) => [a, b] as [string, string]) : merges.map(([a, b]) => `${a} ${b}`);
}

/** Checks that a parsed JSON value is a BPE tokenizer.json, naming the file and field that is wrong. */
export function assertBpeTokenizerJson(value: unknown, file = "tokenizer.json"): asserts value is TokenizerJson {
	if (typeof value !== "object" || value === null) throw new InputError("not a JSON object", { file });
	const record = value as Record<string, unknown>;
	const model = record.model as Record<string, unknown> | undefined;
	if (typeof model !== "object" || model === null) throw new InputError("missing model", { file, field: "model" });
	if (model.type !== "BPE") throw new InputError(`model.type is ${JSON.stringify(model.type)}; only BPE tokenizers (Llama-2/3, Mistral) can be extended`, { file, field: "model.type" });
	if (typeof model.vocab !== "object" || model.vocab === null || Array.isArray(model.vocab)) throw new InputError("model.vocab is not an object", { file, field: "model.vocab" });
	if (!Array.isArray(record.added_tokens)) throw new InputError("added_tokens is not an array", { file, field: "added_tokens" });
}

/** The highest token id in use, over the model vocabulary and the added tokens. */
export function highestTokenId(json: TokenizerJson): number {
	let max = -1;
	// for-in, not Object.values: no 128k-entry array for Llama-3's vocabulary (half the time).
	const vocab = json.model.vocab;
	for (const token in vocab) if ((vocab[token] as number) > max) max = vocab[token] as number;
	for (const token of json.added_tokens) if (token.id > max) max = token.id;
	return max;
}
