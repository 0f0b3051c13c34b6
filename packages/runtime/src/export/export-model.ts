import { copyFile, mkdir, readFile, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { ConfigError, TransllmError, assertSameSettings, createProgress, fsyncDirectory, readJsonFile, readRunSettings, writeJsonAtomic } from "@transllm/core";
import type { ProgressOptions } from "@transllm/core";
import { buildLlamaOnnxModel } from "../fixture/llama-onnx-graph.js";
import { writeOnnxModel } from "../onnx/onnx-model-file.js";
import { ExternalWeightFile } from "./external-weight-file.js";
import { hfArchitectureFromConfig } from "./hf-architecture.js";
import { SafetensorsCheckpoint, checkCheckpointWeights } from "./safetensors-checkpoint.js";

/** In `<out>.partial`: the settings of the export and how many weights of model.onnx_data are durable. */
const EXPORT_PROGRESS = "export-progress.json";

/** Storage precision of an export. */
export type ExportPrecision = "fp32" | "fp16" | "int8" | "int4";
export const EXPORT_PRECISIONS: readonly ExportPrecision[] = ["fp32", "fp16", "int8", "int4"];

/**
 * onnxruntime-genai's model builder quantizes to MatMulNBits with blocks of 32 along K by default
 * (its `int4_block_size`); the same here for int4 and int8.
 */
export const DEFAULT_QUANTIZATION_BLOCK_SIZE = 32;

/**
 * MatMulNBits `accuracy_level` 4: activations quantized to int8 per block so that MLAS uses its integer
 * dot-product kernels (onnxruntime-genai's CPU int4 recipe passes `int4_accuracy_level=4`). Without it, ORT's
 * CPU kernel takes the fp32 path, which for 8 bits is ~12× slower than fp32 MatMul here (bench/results).
 */
export const DEFAULT_ACCURACY_LEVEL = 4;

/** Parameters of `exportModel`. */
export interface ExportModelParams {
	/** Hugging Face model directory: config.json, (sharded) *.safetensors, tokenizer files. */
	model: string;
	/**
	 * Continue an export killed midway: `<out>.partial` keeps the weights already written and synced
	 * (`export-progress.json` counts them, with the settings, which must be the same).
	 */
	resume?: boolean;
	/** How often the weights written so far are synced and counted for --resume (default 256 MiB). */
	syncEveryBytes?: number;
	/** Output directory (must not exist unless `force`); written as `<out>.partial` and renamed when complete. */
	out: string;
	/**
	 * "fp32" (default); "fp16": half-precision weights, KV cache and logits (arithmetic in fp32, runs on CPU);
	 * "int8" / "int4": weight-only block quantization of every linear layer and the LM head to MatMulNBits,
	 * fp32 activations, the embedding table in fp16.
	 */
	precision?: ExportPrecision;
	/** Quantization block size along K (int8/int4; default 32; a power of two ≥ 16). */
	blockSize?: number;
	/** MatMulNBits `accuracy_level` (int8/int4): 1 fp32, 2 fp16, 3 bf16, 4 int8 compute (default 4). */
	accuracyLevel?: number;
	/** Replace an existing `out`. */
	force?: boolean;
	/** Progress on stderr (default: shown; `false` for none); or progress options (stream, interval). */
	progress?: boolean | Pick<ProgressOptions, "stream" | "intervalMs">;
}

/** What `exportModel` wrote. */
export interface ExportModelResult {
	dir: string;
	modelType: string;
	precision: ExportPrecision;
	/** Bytes of model.onnx_data. */
	weightBytes: number;
	/** Parameters of the checkpoint. */
	parameters: number;
	/** Files copied from the checkpoint (tokenizer, configs). */
	copied: string[];
	seconds: number;
	/** Weights kept from an interrupted export (`resume`); 0 for a fresh one. */
	resumedWeights: number;
}

/** Files of a Hugging Face model directory that travel with the export (tokenizer, chat template, configs). */
const COPIED_FILES = [
	"config.json",
	"generation_config.json",
	"tokenizer.json",
	"tokenizer_config.json",
	"special_tokens_map.json",
	"added_tokens.json",
	"tokenizer.model",
	"vocab.json",
	"merges.txt",
	"chat_template.jinja",
	"chat_template.json",
];

async function exists(path: string): Promise<boolean> {
	return stat(path).then(
		() => true,
		() => false,
	);
}

/**
 * Exports a Hugging Face Llama-family checkpoint (Llama 2/3, Mistral, Qwen2) to an ONNX decoder with Optimum's
 * `text-generation-with-past` I/O (the graph of `buildLlamaOnnxModel`), weights in `model.onnx_data`.
 *
 * Tensors are streamed: the graph is built with external-data locations first, then each weight is read from
 * its shard, converted (bf16/fp16 → fp32, transposed for MatMul, rounded to fp16 or block-quantized) and
 * written before the next is read, so peak memory is about the largest tensor, not the model. The output is
 * written to `<out>.partial` and renamed into place when complete; a failure removes it, so a directory
 * named `out` is always a finished export.
 */
export async function exportModel(params: ExportModelParams): Promise<ExportModelResult> {
	const started = Date.now();
	const source = resolve(params.model);
	const out = resolve(params.out);
	const precision = params.precision ?? "fp32";
	if (!EXPORT_PRECISIONS.includes(precision))
		throw new ConfigError(`precision must be one of ${EXPORT_PRECISIONS.join(", ")}, got ${JSON.stringify(precision)}`);
	const blockSize = params.blockSize ?? DEFAULT_QUANTIZATION_BLOCK_SIZE;
	if (!Number.isInteger(blockSize) || blockSize < 16 || (blockSize & (blockSize - 1)) !== 0)
		throw new ConfigError(`blockSize must be a power of two of at least 16 (MatMulNBits), got ${blockSize}`);
	if (params.accuracyLevel !== undefined && ![0, 1, 2, 3, 4].includes(params.accuracyLevel))
		throw new ConfigError(`accuracyLevel must be 0–4 (MatMulNBits accuracy_level), got ${params.accuracyLevel}`);
	if (source === out) throw new ConfigError(`the output directory must differ from the model directory (${source})`);

	const configPath = join(source, "config.json");
	if (!(await exists(configPath))) throw new TransllmError("E_MODEL", `${source}: no config.json (a Hugging Face model directory, as save_pretrained writes it)`);
	const config = await readJsonFile<Record<string, unknown>>(configPath, "model config");
	const hf = hfArchitectureFromConfig(config, configPath);
	if (!(await exists(join(source, "tokenizer.json"))))
		throw new TransllmError("E_MODEL", `${source}: no tokenizer.json, which the runtime needs (save the tokenizer with AutoTokenizer.save_pretrained)`);
	if ((await exists(out)) && !params.force) throw new ConfigError(`${out} exists; pass force (--force) to replace it`);

	const checkpoint = await SafetensorsCheckpoint.open(source);
	const partial = `${out}.partial`;
	const progressFile = join(partial, EXPORT_PROGRESS);
	// What decides the bytes of model.onnx_data: a resumed export must have been started with the same (checked
	// before anything is touched, so a refused resume keeps the partial export).
	const settings = { source, precision, blockSize, accuracyLevel: params.accuracyLevel ?? DEFAULT_ACCURACY_LEVEL, checkpoint: await checkpointFingerprint(source) };
	const earlier = params.resume ? await readRunSettings(progressFile) : undefined;
	if (earlier) {
		try {
			assertSameSettings(earlier.settings as object | undefined, settings, { output: out });
		} catch (error) {
			await checkpoint.close();
			throw error;
		}
	}
	try {
		checkCheckpointWeights(checkpoint, hf.weightShapes, configPath);
		let from = typeof earlier?.weights === "number" && (await exists(join(partial, "model.onnx_data"))) ? earlier.weights : 0;
		if (from === 0) {
			// Without --resume (or with nothing to resume) a `.partial` left by a killed export is stale: start over.
			await rm(partial, { recursive: true, force: true });
			await mkdir(partial, { recursive: true });
		}

		const weights = new ExternalWeightFile("model.onnx_data");
		const model = buildLlamaOnnxModel({
			arch: hf.arch,
			weights,
			dtype: precision === "fp16" ? "fp16" : "fp32",
			...(precision === "int8" || precision === "int4" ? { quantization: { bits: precision === "int8" ? 8 : 4, blockSize, accuracyLevel: params.accuracyLevel ?? DEFAULT_ACCURACY_LEVEL } } : {}),
			...(hf.ropeScaling ? { ropeScaling: hf.ropeScaling } : {}),
			attentionBias: hf.attentionBias,
			...(hf.slidingWindow !== undefined ? { slidingWindow: hf.slidingWindow } : {}),
		});
		model.producerName = "transllm-export";

		const mib = (bytes: number): number => bytes / 2 ** 20;
		const progressOptions = typeof params.progress === "object" ? params.progress : {};
		const progress = createProgress({
			label: `export ${basename(source)} → ${precision}`,
			unit: "MiB",
			total: Math.round(mib(weights.byteLength)),
			silent: params.progress === false,
			...progressOptions,
		});
		if (from > weights.entries.length) from = 0;
		if (from > 0) progress.tick(mib(weights.bytesBefore(from)));
		const record = (done: number) => writeJsonAtomic(progressFile, { settings, weights: done });
		await record(from);
		await weights.write(join(partial, "model.onnx_data"), (name) => checkpoint.read(name), (_weight, bytes) => progress.tick(mib(bytes)), { from, onDurable: record, ...(params.syncEveryBytes !== undefined ? { syncBytes: params.syncEveryBytes } : {}) });
		await rm(progressFile, { force: true });
		await writeOnnxModel(model, join(partial, "model.onnx"));

		const copied: string[] = [];
		for (const name of COPIED_FILES) {
			if (!(await exists(join(source, name)))) continue;
			await copyFile(join(source, name), join(partial, name));
			copied.push(name);
		}
		await inlineChatTemplate(partial);
		progress.done(`wrote ${out} (${mib(weights.byteLength).toFixed(0)} MiB of weights)`);

		await fsyncDirectory(partial);
		if (await exists(out)) {
			const old = `${out}.replaced-${process.pid}`;
			await rename(out, old);
			await rename(partial, out);
			await rm(old, { recursive: true, force: true });
		} else await rename(partial, out);
		await fsyncDirectory(dirname(out));
		let parameters = 0;
		for (const shape of hf.weightShapes.values()) parameters += shape.reduce((a, b) => a * b, 1);
		return {
			dir: out,
			modelType: hf.modelType,
			precision,
			weightBytes: weights.byteLength,
			parameters,
			copied,
			seconds: (Date.now() - started) / 1000,
			resumedWeights: from,
		};
	} catch (error) {
		// A failure leaves nothing behind; a killed export (SIGKILL, SIGINT) keeps what is durable for --resume.
		await rm(partial, { recursive: true, force: true });
		throw error;
	} finally {
		await checkpoint.close();
	}
}

/** Sizes and modification times of the checkpoint's files: a resumed export must read the same weights. */
async function checkpointFingerprint(dir: string): Promise<Record<string, [number, number]>> {
	const files: Record<string, [number, number]> = {};
	for (const name of (await readdir(dir)).filter((file) => file.endsWith(".safetensors") || file.endsWith(".safetensors.index.json")).sort()) {
		const info = await stat(join(dir, name));
		files[name] = [info.size, Math.round(info.mtimeMs)];
	}
	return files;
}

/**
 * transformers 5 saves the chat template as chat_template.jinja, not in tokenizer_config.json, where the
 * runtime (and transformers 4, transformers.js) read it: put it there too.
 */
async function inlineChatTemplate(dir: string): Promise<void> {
	const templatePath = join(dir, "chat_template.jinja");
	const configPath = join(dir, "tokenizer_config.json");
	if (!(await exists(templatePath)) || !(await exists(configPath))) return;
	const tokenizerConfig = await readJsonFile<Record<string, unknown>>(configPath, "tokenizer config");
	if (tokenizerConfig.chat_template !== undefined) return;
	tokenizerConfig.chat_template = await readFile(templatePath, "utf8");
	await writeJsonAtomic(configPath, tokenizerConfig);
}
