import { open, readFile, stat } from "node:fs/promises";
import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
import { ConfigError, InputError, SeededRng, createProgress, recordRunSettings, writeJsonAtomic } from "@transllm/core";
import { assertFloatDtype, decodeFloats, encodeFloats } from "./float-codec.js";
import type { FloatDtype } from "./float-codec.js";
import { copyRange, readSafetensorsHeader, writeSafetensors } from "./safetensors.js";
import type { SafetensorsHeader, TensorInfo, TensorSource } from "./safetensors.js";

/**
 * How new embedding rows start:
 * - `normal`: normal(0, 0.02). TransLLM: "The new embeddings are randomly initialized"
 *   (`../shared/papers/000_1ce36f3811662daf.txt` Sec. 3.1); the paper names no distribution, so this uses Llama's
 *   own initializer_range, 0.02;
 * - `mean`: input and output rows are the mean of the new token's sub-token rows under the old tokenizer (the
 *   averaging of the pipeline LLaMAX describes, `../shared/papers/002_b49e5c8fa0bdac53.txt` Sec. 3.1);
 * - `eeve`: input rows are the sub-token mean, output rows the first sub-token's output row (EEVE).
 * Rows with no decomposition (special tokens, padding) get the mean of all old rows for `mean`/`eeve`.
 */
export type EmbeddingInit = "normal" | "mean" | "eeve";

export interface ResizeEmbeddingsParams {
	/** Hugging Face checkpoint directory (config.json + model.safetensors or sharded with index.json). */
	checkpoint: string;
	/** Output directory (weights, config.json, index.json). */
	outDir: string;
	/** The extended vocabulary size (before padding). */
	vocabSize: number;
	/** New ids and their base ids (id-map.json's `tokens`). */
	tokens: readonly { id: number; baseIds: readonly number[] }[];
	init?: EmbeddingInit;
	/** Pad the row count up to a multiple of this (64 is the usual choice for tensor cores); 0 = no padding. */
	padToMultipleOf?: number;
	seed?: string | number;
	/**
	 * Skip output shards that already exist (they are written atomically, so an existing one is complete). The settings
	 * are kept in `<outDir>/resize-embeddings.json`; a resume with other ones is refused.
	 */
	resume?: boolean;
	progress?: { silent?: boolean; stream?: NodeJS.WritableStream };
}

export interface ResizeResult {
	oldVocabSize: number;
	newVocabSize: number;
	tied: boolean;
	shards: string[];
	resized: string[];
	skipped: string[];
}

const INPUT = /(^|\.)embed_tokens\.weight$|^transformer\.wte\.weight$/;
const OUTPUT = /(^|\.)lm_head\.weight$/;
const ROWS_PER_CHUNK = 256;

async function readJson(file: string): Promise<Record<string, unknown>> {
	try {
		return JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
	} catch (error) {
		throw new InputError((error as NodeJS.ErrnoException).code === "ENOENT" ? "file not found" : `not valid JSON: ${(error as Error).message}`, { file });
	}
}

/** Reads rows of a 2-D tensor as float32 (random access: only those rows are read). */
async function readRows(header: SafetensorsHeader, tensor: TensorInfo, ids: readonly number[]): Promise<Float32Array[]> {
	const [rows, hidden] = tensor.shape as [number, number];
	const dtype = tensor.dtype as FloatDtype;
	const width = dtype === "F32" ? 4 : 2;
	const handle = await open(header.file, "r");
	try {
		const out: Float32Array[] = [];
		for (const id of ids) {
			if (id < 0 || id >= rows) throw new InputError(`row ${id} out of range (${rows} rows)`, { file: header.file, field: tensor.name });
			const buffer = Buffer.alloc(hidden * width);
			await handle.read(buffer, 0, buffer.length, tensor.start + id * hidden * width);
			out.push(decodeFloats(buffer, dtype));
		}
		return out;
	} finally {
		await handle.close();
	}
}

/** The mean of all rows of a 2-D tensor, streamed. */
async function meanRow(header: SafetensorsHeader, tensor: TensorInfo): Promise<Float32Array> {
	const [rows, hidden] = tensor.shape as [number, number];
	const sum = new Float64Array(hidden);
	const width = tensor.dtype === "F32" ? 4 : 2;
	let carry = new Uint8Array(0);
	await copyRange(header.file, tensor.start, tensor.end, async (chunk) => {
		const joined = new Uint8Array(carry.length + chunk.length);
		joined.set(carry);
		joined.set(chunk, carry.length);
		const whole = joined.length - (joined.length % (hidden * width));
		const values = decodeFloats(joined.subarray(0, whole), tensor.dtype as FloatDtype);
		for (let i = 0; i < values.length; i++) sum[i % hidden] = (sum[i % hidden] as number) + (values[i] as number);
		carry = joined.slice(whole);
	});
	return Float32Array.from(sum, (v) => v / rows);
}

function mean(rows: readonly Float32Array[], hidden: number): Float32Array {
	const out = new Float32Array(hidden);
	for (const row of rows) for (let i = 0; i < hidden; i++) out[i] = (out[i] as number) + (row[i] as number) / rows.length;
	return out;
}

/**
 * Grows `embed_tokens` and `lm_head` (tied or untied) of a safetensors checkpoint to the extended vocabulary,
 * streaming every tensor (shards are never held in memory; only the new rows' sub-token rows are read), and
 * updates config.json (`vocab_size`) and, for a sharded checkpoint, the index's `total_size`.
 */
export async function resizeEmbeddings(params: ResizeEmbeddingsParams): Promise<ResizeResult> {
	const init = params.init ?? "normal";
	if (!["normal", "mean", "eeve"].includes(init)) throw new ConfigError(`unknown init "${init}"; choose normal, mean or eeve`);
	const configPath = join(params.checkpoint, "config.json");
	const config = await readJson(configPath);
	const indexPath = join(params.checkpoint, "model.safetensors.index.json");
	const sharded = await stat(indexPath).then(() => true, () => false);
	let index: { metadata?: Record<string, unknown>; weight_map: Record<string, string> } | undefined;
	let shards: string[];
	if (sharded) {
		index = (await readJson(indexPath)) as typeof index;
		if (!index || typeof index.weight_map !== "object") throw new InputError("missing weight_map", { file: indexPath, field: "weight_map" });
		shards = [...new Set(Object.values(index.weight_map))];
	} else shards = ["model.safetensors"];
	const headers = new Map<string, SafetensorsHeader>();
	for (const shard of shards) headers.set(shard, await readSafetensorsHeader(join(params.checkpoint, shard)));
	const find = (pattern: RegExp): { shard: string; header: SafetensorsHeader; tensor: TensorInfo } | undefined => {
		for (const [shard, header] of headers) {
			const tensor = header.tensors.find((t) => pattern.test(t.name));
			if (tensor) return { shard, header, tensor };
		}
		return undefined;
	};
	const input = find(INPUT);
	if (!input) throw new InputError("no embed_tokens.weight tensor", { file: params.checkpoint });
	const output = find(OUTPUT);
	const tied = !output || config.tie_word_embeddings === true;
	const [oldRows, hidden] = input.tensor.shape as [number, number];
	if (input.tensor.shape.length !== 2) throw new InputError(`embedding is not 2-D: ${JSON.stringify(input.tensor.shape)}`, { file: input.header.file, field: input.tensor.name });
	assertFloatDtype(input.tensor.dtype, input.tensor.name);
	if (output) {
		assertFloatDtype(output.tensor.dtype, output.tensor.name);
		if (output.tensor.shape[0] !== oldRows || output.tensor.shape[1] !== hidden) throw new InputError(`lm_head shape ${JSON.stringify(output.tensor.shape)} does not match embed_tokens ${JSON.stringify(input.tensor.shape)}`, { file: output.header.file, field: output.tensor.name });
	}
	const pad = params.padToMultipleOf ?? 0;
	const newRows = pad > 0 ? Math.ceil(params.vocabSize / pad) * pad : params.vocabSize;
	if (newRows < oldRows) throw new ConfigError(`the extended vocabulary (${newRows} rows) is smaller than the checkpoint's embedding (${oldRows} rows)`);
	const byId = new Map(params.tokens.map((t) => [t.id, t.baseIds]));
	for (const [id, baseIds] of byId) {
		if (id < oldRows && id >= 0) throw new ConfigError(`id map entry ${id} is inside the checkpoint's ${oldRows} existing rows; was the tokenizer extended from this checkpoint's tokenizer?`);
		// An id past the new vocabulary would get no row at all (silently dropped): the id map and vocabSize disagree.
		if (!Number.isInteger(id) || id >= params.vocabSize) throw new ConfigError(`id map entry ${id} is outside the extended vocabulary of ${params.vocabSize} tokens; the id map and vocabSize do not belong together`);
		for (const baseId of baseIds) if (baseId >= oldRows) throw new ConfigError(`id map entry ${id} decomposes into id ${baseId}, past the checkpoint's ${oldRows} rows`);
	}
	const rng = new SeededRng(params.seed ?? 0);
	// Resumed shards must come from the same settings as the ones already written (the id map by its digest: it can be large).
	const tokensDigest = createHash("sha256").update(JSON.stringify(params.tokens)).digest("hex");
	const settings = { checkpoint: resolve(params.checkpoint), vocabSize: params.vocabSize, tokens: tokensDigest, init, padToMultipleOf: pad, seed: String(params.seed ?? 0) };
	await recordRunSettings(join(params.outDir, "resize-embeddings.json"), settings, { resume: params.resume, output: params.outDir });

	// Builds the new rows of one matrix chunk by chunk (never all new rows at once).
	const newRowSource = async (which: "input" | "output", location: { header: SafetensorsHeader; tensor: TensorInfo }): Promise<(first: number, count: number) => Promise<Float32Array>> => {
		const stream = rng.fork(which);
		const fallback = init === "normal" ? undefined : await meanRow(location.header, location.tensor);
		return async (first, count) => {
			const out = new Float32Array(count * hidden);
			for (let r = 0; r < count; r++) {
				const id = first + r;
				const baseIds = byId.get(id) ?? [];
				let row: Float32Array;
				if (init === "normal") row = Float32Array.from({ length: hidden }, () => stream.normal(0, 0.02));
				else if (baseIds.length === 0) row = fallback as Float32Array;
				else if (init === "eeve" && which === "output") row = (await readRows(location.header, location.tensor, [baseIds[0] as number]))[0] as Float32Array;
				else row = mean(await readRows(location.header, location.tensor, baseIds), hidden);
				out.set(row, r * hidden);
			}
			return out;
		};
	};

	const result: ResizeResult = { oldVocabSize: oldRows, newVocabSize: newRows, tied, shards, resized: [], skipped: [] };
	let addedBytes = 0;
	const progress = createProgress({ label: "resizing embeddings", unit: "shards", total: shards.length, silent: params.progress?.silent ?? true, stream: params.progress?.stream });
	for (const shard of shards) {
		const header = headers.get(shard) as SafetensorsHeader;
		const target = join(params.outDir, shard);
		// A tied checkpoint that still stores lm_head gets the same new rows in both.
		const grown = header.tensors.filter((t) => t === input.tensor || t === output?.tensor);
		for (const tensor of grown) addedBytes += (newRows - oldRows) * hidden * (tensor.dtype === "F32" ? 4 : 2);
		if (params.resume && (await stat(target).then(() => true, () => false))) {
			result.skipped.push(shard);
			progress.tick();
			continue;
		}
		const sources: TensorSource[] = [];
		for (const tensor of [...header.tensors].sort((a, b) => a.start - b.start)) {
			const grow = grown.includes(tensor);
			const rows = grow ? await newRowSource(tensor === input.tensor || tied ? "input" : "output", { header, tensor }) : undefined;
			sources.push({
				name: tensor.name,
				dtype: tensor.dtype,
				shape: grow ? [newRows, hidden] : tensor.shape,
				produce: async (write) => {
					await copyRange(header.file, tensor.start, tensor.end, write);
					if (!rows) return;
					for (let first = oldRows; first < newRows; first += ROWS_PER_CHUNK) {
						const count = Math.min(ROWS_PER_CHUNK, newRows - first);
						await write(encodeFloats(await rows(first, count), tensor.dtype as FloatDtype));
					}
				},
			});
		}
		await writeSafetensors(target, sources, header.metadata);
		result.resized.push(shard);
		progress.tick();
	}
	progress.done();
	if (index) {
		const metadata = { ...(index.metadata ?? {}) };
		if (typeof metadata.total_size === "number") metadata.total_size += addedBytes;
		await writeJsonAtomic(join(params.outDir, "model.safetensors.index.json"), { ...index, metadata });
	}
	await writeJsonAtomic(join(params.outDir, "config.json"), { ...config, vocab_size: newRows });
	return result;
}
