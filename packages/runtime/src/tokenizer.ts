import { InputError, readJsonFile } from "@transllm/core";
import { Tokenizer } from "@huggingface/tokenizers";

/** The tokenizer of a model directory (tokenizer.json + tokenizer_config.json), as the contract names it. */
export interface ChatTokenizer {
	/** Token ids of a text; `addSpecialTokens` (default true) applies the post-processor (Llama's BOS). */
	encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
	/**
	 * Text of token ids; `skipSpecialTokens` drops BOS/EOS/added special tokens (default false) except the ids in
	 * `keepSpecialTokens` (TCOT's `<EN>`/`<RESPONSE>`/`<TH>` markers, which a parser must see). Ids outside the
	 * tokenizer's vocabulary (a padded model vocabulary) decode to nothing.
	 */
	decode(ids: readonly number[], options?: DecodeOptions): string;
	tokenToId(token: string): number | undefined;
	idToToken(id: number): string | undefined;
	/** Special tokens named in tokenizer_config.json (`bos_token`, `eos_token`, `pad_token`, `unk_token`). */
	readonly specialTokens: { bos?: string; eos?: string; pad?: string; unk?: string };
	/** Text of every added token (`</s>`, `<EN>`, `<|eot_id|>` …): `encode` turns these into their ids wherever they occur. */
	readonly addedTokens: readonly string[];
}

export interface DecodeOptions {
	skipSpecialTokens?: boolean;
	/** Special token ids that `skipSpecialTokens` keeps. */
	keepSpecialTokens?: ReadonlySet<number>;
}

/** tokenizer_config.json writes a special token as a string or as an AddedToken object `{ content }`. */
function tokenContent(value: unknown): string | undefined {
	if (typeof value === "string") return value;
	if (value && typeof value === "object" && typeof (value as { content?: unknown }).content === "string") return (value as { content: string }).content;
	return undefined;
}

/** Builds a ChatTokenizer from parsed tokenizer.json and tokenizer_config.json objects. */
export function createTokenizer(tokenizerJson: Record<string, unknown>, tokenizerConfig: Record<string, unknown>, file = "tokenizer.json"): ChatTokenizer {
	let tokenizer: Tokenizer;
	try {
		tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
	} catch (error) {
		throw new InputError(`cannot build the tokenizer: ${(error as Error).message}`, { file }, { cause: error });
	}
	const specialTokens: ChatTokenizer["specialTokens"] = {};
	for (const key of ["bos", "eos", "pad", "unk"] as const) {
		const content = tokenContent(tokenizerConfig[`${key}_token`]);
		if (content !== undefined) specialTokens[key] = content;
	}
	// Special = added tokens marked special plus additional_special_tokens, as transformers' skip_special_tokens drops them.
	const specialIds = new Set<number>();
	for (const token of (tokenizerJson.added_tokens ?? []) as { id?: unknown; special?: unknown }[]) if (token.special === true && typeof token.id === "number") specialIds.add(token.id);
	for (const token of Array.isArray(tokenizerConfig.additional_special_tokens) ? tokenizerConfig.additional_special_tokens : []) {
		const content = tokenContent(token);
		const id = content !== undefined ? tokenizer.token_to_id(content) : undefined;
		if (id !== undefined) specialIds.add(id);
	}
	const addedTokens = ((tokenizerJson.added_tokens ?? []) as { content?: unknown }[]).flatMap((token) => (typeof token.content === "string" && token.content !== "" ? [token.content] : []));
	return {
		specialTokens,
		addedTokens,
		encode: (text, options) => tokenizer.encode(text, { add_special_tokens: options?.addSpecialTokens ?? true }).ids,
		decode: (ids, options) => {
			// Models often pad their vocabulary past the tokenizer's (to a multiple of 64 or 128); such ids have no text.
			const skip = options?.skipSpecialTokens ?? false;
			const keep = options?.keepSpecialTokens;
			const known = ids.filter((id) => tokenizer.id_to_token(id) !== undefined && !(skip && specialIds.has(id) && !keep?.has(id)));
			// Special ids are filtered here, so the kept markers go through the model's decoder like any token (as the Rust tokenizers do).
			return known.length === 0 ? "" : tokenizer.decode(known, { skip_special_tokens: false });
		},
		tokenToId: (token) => tokenizer.token_to_id(token),
		idToToken: (id) => tokenizer.id_to_token(id),
	};
}

/** Reads and builds the tokenizer of a model directory. */
export async function loadTokenizer(files: { tokenizer: string; tokenizerConfig: string }): Promise<{ tokenizer: ChatTokenizer; tokenizerConfig: Record<string, unknown> }> {
	const tokenizerJson = await readJsonFile<Record<string, unknown>>(files.tokenizer, "tokenizer.json");
	const tokenizerConfig = await readJsonFile<Record<string, unknown>>(files.tokenizerConfig, "tokenizer_config.json");
	return { tokenizer: createTokenizer(tokenizerJson, tokenizerConfig, files.tokenizer), tokenizerConfig };
}
