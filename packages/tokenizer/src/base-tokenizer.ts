import { access, readFile } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError, InputError } from "@transllm/core";
import { readSentencePieceModel } from "./sentencepiece-model.js";
import type { SentencePieceModel } from "./sentencepiece-model.js";
import { sentencePieceToTokenizerJson } from "./sentencepiece-to-tokenizer-json.js";
import { assertBpeTokenizerJson } from "./tokenizer-json.js";
import type { TokenizerJson } from "./tokenizer-json.js";

/**
 * The two BPE families transllm extends: SentencePiece-style BPE with byte fallback (Llama-2, Mistral: ▁ for
 * spaces, `<0xNN>` byte pieces, no pre-tokenizer) and byte-level BPE (Llama-3, GPT-style: a regex pre-tokenizer
 * and the ByteLevel byte-to-character map).
 */
export type TokenizerFamily = "sentencepiece-bpe" | "byte-level-bpe";

/** A base tokenizer directory as loaded: tokenizer.json (built from tokenizer.model when absent) and the rest. */
export interface BaseTokenizer {
	dir: string;
	family: TokenizerFamily;
	tokenizerJson: TokenizerJson;
	/** Whether tokenizer.json was built from tokenizer.model (the directory had none). */
	tokenizerJsonConverted: boolean;
	/** The SentencePiece model, when the directory has tokenizer.model. */
	sentencePiece?: SentencePieceModel;
	tokenizerConfig?: Record<string, unknown>;
}

async function exists(path: string): Promise<boolean> {
	try {
		await access(path);
		return true;
	} catch {
		return false;
	}
}

/** Which family a BPE tokenizer.json belongs to, from its model and pre-tokenizer. */
export function detectFamily(json: TokenizerJson, file = "tokenizer.json"): TokenizerFamily {
	const text = JSON.stringify([json.pre_tokenizer, json.decoder]);
	if (text.includes('"ByteLevel"')) return "byte-level-bpe";
	if (json.model.byte_fallback === true || text.includes("▁")) return "sentencepiece-bpe";
	throw new InputError("neither byte-level BPE (ByteLevel pre-tokenizer) nor SentencePiece-style BPE (byte_fallback, ▁); cannot extend", { file, field: "model" });
}

/**
 * Loads a base tokenizer from a Hugging Face model directory: `tokenizer.json`, `tokenizer.model` or both, and
 * `tokenizer_config.json` when present. A directory with only tokenizer.model gets the tokenizer.json that the
 * model determines (see sentencePieceToTokenizerJson).
 */
export async function loadBaseTokenizer(dir: string): Promise<BaseTokenizer> {
	const jsonPath = join(dir, "tokenizer.json");
	const modelPath = join(dir, "tokenizer.model");
	const configPath = join(dir, "tokenizer_config.json");
	const [hasJson, hasModel, hasConfig] = await Promise.all([exists(jsonPath), exists(modelPath), exists(configPath)]);
	if (!hasJson && !hasModel) throw new ConfigError(`${dir}: no tokenizer.json or tokenizer.model`);
	const sentencePiece = hasModel ? readSentencePieceModel(await readFile(modelPath), modelPath) : undefined;
	let tokenizerJson: TokenizerJson;
	if (hasJson) {
		let parsed: unknown;
		try {
			parsed = JSON.parse(await readFile(jsonPath, "utf8"));
		} catch (error) {
			throw new InputError(`not valid JSON: ${(error as Error).message}`, { file: jsonPath }, { cause: error });
		}
		assertBpeTokenizerJson(parsed, jsonPath);
		tokenizerJson = parsed;
	} else tokenizerJson = sentencePieceToTokenizerJson(sentencePiece as SentencePieceModel, { file: modelPath });
	const family = detectFamily(tokenizerJson, jsonPath);
	if (sentencePiece) {
		if (family !== "sentencepiece-bpe") throw new InputError("tokenizer.model beside a byte-level tokenizer.json; which one is the tokenizer?", { file: modelPath });
		for (const [id, piece] of sentencePiece.pieces.entries()) {
			const jsonId = tokenizerJson.model.vocab[piece.piece];
			if (jsonId !== undefined && jsonId !== id) {
				throw new InputError(`tokenizer.model and tokenizer.json disagree: piece ${JSON.stringify(piece.piece)} is id ${id} in the model and ${jsonId} in tokenizer.json`, { file: jsonPath, field: "model.vocab" });
			}
		}
	}
	const tokenizerConfig = hasConfig ? JSON.parse(await readFile(configPath, "utf8")) as Record<string, unknown> : undefined;
	return { dir, family, tokenizerJson, tokenizerJsonConverted: !hasJson, sentencePiece, tokenizerConfig };
}
