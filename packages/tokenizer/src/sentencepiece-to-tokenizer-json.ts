import { ConfigError } from "@transllm/core";
import { PieceType } from "./sentencepiece-model.js";
import type { SentencePiece, SentencePieceModel } from "./sentencepiece-model.js";
import type { TokenizerJson } from "./tokenizer-json.js";

/**
 * The Hugging Face merges equivalent to SentencePiece-BPE pieces (as transformers' SentencePieceExtractor): for
 * every normal piece, every split into two pieces that are both in the vocabulary is a merge, ranked by the
 * piece's score (higher first; ties by left id, then right id, which reproduces Meta's Llama-2 tokenizer.json). SentencePiece merges the
 * adjacent pair whose concatenation scores highest, so ranking every split by that score reproduces it.
 */
export function sentencePieceMerges(pieces: readonly SentencePiece[], vocab: ReadonlyMap<string, number>): [string, string][] {
	const merges: { left: string; right: string; score: number; leftId: number; rightId: number }[] = [];
	for (const piece of pieces) {
		// User-defined pieces are matched whole (added tokens in tokenizer.json), never built by merges.
		if (piece.type !== PieceType.NORMAL) continue;
		const chars = Array.from(piece.piece);
		for (let i = 1; i < chars.length; i++) {
			const left = chars.slice(0, i).join("");
			const right = chars.slice(i).join("");
			const leftId = vocab.get(left);
			const rightId = vocab.get(right);
			if (leftId !== undefined && rightId !== undefined) merges.push({ left, right, score: piece.score, leftId, rightId });
		}
	}
	merges.sort((a, b) => b.score - a.score || a.leftId - b.leftId || a.rightId - b.rightId);
	return merges.map((merge) => [merge.left, merge.right]);
}

/**
 * Builds the Hugging Face `tokenizer.json` that a SentencePiece-BPE model with byte fallback determines (the
 * layout of transformers' LlamaConverter for Llama-2 / Mistral: ▁ prepended and substituted for spaces, BPE with
 * byte_fallback and fuse_unk, BOS template, decoder that undoes ▁ and fuses byte pieces).
 */
export function sentencePieceToTokenizerJson(model: SentencePieceModel, options: { file?: string } = {}): TokenizerJson {
	if (model.trainer.modelType !== 2) {
		throw new ConfigError(`${options.file ?? "tokenizer.model"}: model_type ${model.trainer.modelType} is not BPE (2); only SentencePiece-BPE models (Llama-2, Mistral) can be extended by continued BPE`);
	}
	const vocab = new Map<string, number>();
	model.pieces.forEach((piece, id) => {
		if (!vocab.has(piece.piece)) vocab.set(piece.piece, id);
	});
	const special = (id: number): string | undefined => (id >= 0 ? model.pieces[id]?.piece : undefined);
	const unk = special(model.trainer.unkId);
	const bos = special(model.trainer.bosId);
	const addedTokens = model.pieces
		.map((piece, id) => ({ piece, id }))
		.filter(({ piece }) => piece.type === PieceType.CONTROL || piece.type === PieceType.UNKNOWN || piece.type === PieceType.USER_DEFINED)
		.map(({ piece, id }) => ({
			id,
			content: piece.piece,
			single_word: false,
			lstrip: false,
			rstrip: false,
			normalized: false,
			special: piece.type !== PieceType.USER_DEFINED,
		}));
	const normalizers: unknown[] = [];
	if (model.normalizer.addDummyPrefix) normalizers.push({ type: "Prepend", prepend: "▁" });
	if (model.normalizer.escapeWhitespaces) normalizers.push({ type: "Replace", pattern: { String: " " }, content: "▁" });
	const decoders: unknown[] = [{ type: "Replace", pattern: { String: "▁" }, content: " " }, { type: "ByteFallback" }, { type: "Fuse" }];
	if (model.normalizer.addDummyPrefix) decoders.push({ type: "Strip", content: " ", start: 1, stop: 0 });
	return {
		version: "1.0",
		truncation: null,
		padding: null,
		added_tokens: addedTokens,
		normalizer: normalizers.length > 0 ? { type: "Sequence", normalizers } : null,
		pre_tokenizer: null,
		post_processor:
			bos === undefined
				? null
				: {
						type: "TemplateProcessing",
						single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
						pair: [
							{ SpecialToken: { id: bos, type_id: 0 } },
							{ Sequence: { id: "A", type_id: 0 } },
							{ SpecialToken: { id: bos, type_id: 1 } },
							{ Sequence: { id: "B", type_id: 1 } },
						],
						special_tokens: { [bos]: { id: bos, ids: [model.trainer.bosId], tokens: [bos] } },
					},
		decoder: { type: "Sequence", decoders },
		model: {
			type: "BPE",
			dropout: null,
			unk_token: unk ?? null,
			continuing_subword_prefix: null,
			end_of_word_suffix: null,
			fuse_unk: true,
			byte_fallback: model.trainer.byteFallback,
			vocab: Object.fromEntries(vocab),
			merges: sentencePieceMerges(model.pieces, vocab).map(([left, right]) => `${left} ${right}`),
		},
	};
}
