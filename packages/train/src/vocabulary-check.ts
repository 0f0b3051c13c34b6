import { stat } from "node:fs/promises";
import { join } from "node:path";
import { readJsonFile } from "@transllm/core";
import { readSafetensorsHeader } from "@transllm/tokenizer";

/**
 * Whether the vocabulary of a checkpoint agrees everywhere the training hand-off looks at it. A size mismatch at
 * merge time is LLaMA-Factory's most reported failure with new tokens (issues #5262, #3125, #7997): training resizes
 * the embeddings to len(tokenizer) padded to a multiple of 64 (model_utils/embedding.py `resize_embedding_layer`,
 * only when len(tokenizer) exceeds the rows), the adapter saves the resized embed_tokens/lm_head, and a merge that
 * loads the base at its own size fails or silently drops rows. The plans of this package make that impossible: the
 * checkpoint comes already resized (`transllm tokenizer resize-embeddings`), holds every special token, and the YAMLs
 * say `resize_vocab: false` with no `add_special_tokens`, so no stage and no merge ever resizes. This check proves the
 * preconditions before training starts.
 */
export interface VocabularyReport {
	ok: boolean;
	model: string;
	/** Highest token id of tokenizer.json (vocabulary and added tokens) + 1: what len(tokenizer) covers. */
	tokenizerSize: number;
	/** config.json `vocab_size`. */
	configVocabSize: number;
	/** Rows of model.embed_tokens.weight in the safetensors. */
	embeddingRows: number;
	/** Rows of lm_head.weight (equal to the embedding rows when tied). */
	lmHeadRows: number;
	tied: boolean;
	/** Special tokens asked for that tokenizer.json lacks (LLaMA-Factory would add them and resize). */
	missingSpecialTokens: string[];
	/** Why training would resize or the merge would mismatch; empty when ok. */
	problems: string[];
	/** Advice that does not block training. */
	notes: string[];
}

const EMBED = /(^|\.)embed_tokens\.weight$/;
const LM_HEAD = /(^|\.)lm_head\.weight$/;

async function exists(path: string): Promise<boolean> {
	return stat(path).then(() => true, () => false);
}

/** Safetensors files of a checkpoint directory: the shards of model.safetensors.index.json, or model.safetensors. */
async function weightFiles(dir: string): Promise<string[]> {
	const index = join(dir, "model.safetensors.index.json");
	if (await exists(index)) {
		const { weight_map: map } = await readJsonFile<{ weight_map: Record<string, string> }>(index, "safetensors index");
		return [...new Set(Object.values(map))].map((file) => join(dir, file));
	}
	return [join(dir, "model.safetensors")];
}

/** Reads config.json, tokenizer.json, tokenizer_config.json and the safetensors headers of `model` (no tensor data). */
export async function checkVocabulary(params: { model: string; specialTokens?: readonly string[] }): Promise<VocabularyReport> {
	const { model } = params;
	const config = await readJsonFile<Record<string, unknown>>(join(model, "config.json"), "config.json");
	const tokenizer = await readJsonFile<{ model?: { vocab?: Record<string, number> | [string, number][] }; added_tokens?: { id: number; content: string }[] }>(join(model, "tokenizer.json"), "tokenizer.json");
	const tokenizerConfig = (await exists(join(model, "tokenizer_config.json"))) ? await readJsonFile<Record<string, unknown>>(join(model, "tokenizer_config.json"), "tokenizer_config.json") : {};
	const vocab = tokenizer.model?.vocab ?? {};
	const pieces = new Map<string, number>(Array.isArray(vocab) ? vocab.map(([piece], id) => [piece, id] as [string, number]) : Object.entries(vocab));
	for (const token of tokenizer.added_tokens ?? []) pieces.set(token.content, token.id);
	let maxId = -1;
	for (const id of pieces.values()) maxId = Math.max(maxId, id);
	const tokenizerSize = maxId + 1;

	let embeddingRows = -1;
	let lmHeadRows = -1;
	for (const file of await weightFiles(model)) {
		for (const tensor of (await readSafetensorsHeader(file)).tensors) {
			if (EMBED.test(tensor.name)) embeddingRows = tensor.shape[0] ?? -1;
			if (LM_HEAD.test(tensor.name)) lmHeadRows = tensor.shape[0] ?? -1;
		}
	}
	const tied = config.tie_word_embeddings === true || lmHeadRows === -1;
	if (tied) lmHeadRows = embeddingRows;
	const configVocabSize = Number(config.vocab_size);
	const missingSpecialTokens = (params.specialTokens ?? []).filter((token) => !pieces.has(token));
	const problems: string[] = [];
	const notes: string[] = [];
	if (embeddingRows < 0) problems.push(`${model}: no embed_tokens.weight in the safetensors files`);
	if (configVocabSize !== embeddingRows) problems.push(`config.json vocab_size is ${configVocabSize} but embed_tokens has ${embeddingRows} rows`);
	if (lmHeadRows !== embeddingRows) problems.push(`lm_head has ${lmHeadRows} rows but embed_tokens has ${embeddingRows}`);
	if (tokenizerSize > embeddingRows) {
		problems.push(
			`tokenizer.json has ids up to ${tokenizerSize - 1} but the embeddings have ${embeddingRows} rows: LLaMA-Factory would resize them to a multiple of 64 during training and the merge would load the base at ${embeddingRows} rows; run \`transllm tokenizer resize-embeddings --pad-to-multiple-of 64\` on this checkpoint first`,
		);
	}
	if (missingSpecialTokens.length > 0) {
		problems.push(`tokenizer.json lacks the special tokens ${missingSpecialTokens.join(", ")}: LLaMA-Factory's add_special_tokens would add them and resize during training only; extend the tokenizer with them (\`transllm tokenizer extend\`) and resize the embeddings`);
	}
	const tokenizerClass = String(tokenizerConfig.tokenizer_class ?? "");
	if (/^LlamaTokenizer/.test(tokenizerClass)) {
		problems.push(
			`tokenizer_config.json says tokenizer_class ${tokenizerClass}: transformers 5 then rebuilds the tokenizer from the vocabulary and ignores tokenizer.json's normalizer, so training would not tokenize like the runtime; set "tokenizer_class": "PreTrainedTokenizerFast" (\`transllm tokenizer extend\` writes it)`,
		);
	}
	if (embeddingRows > 0 && embeddingRows % 64 !== 0) notes.push(`${embeddingRows} embedding rows are not a multiple of 64 (tensor cores prefer one; --pad-to-multiple-of 64 when resizing)`);
	return { ok: problems.length === 0, model, tokenizerSize, configVocabSize, embeddingRows, lmHeadRows, tied, missingSpecialTokens, problems, notes };
}
