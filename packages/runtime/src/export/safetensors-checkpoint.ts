import { type FileHandle, open, readdir } from "node:fs/promises";
import { join } from "node:path";
import { TransllmError, readJsonFile } from "@transllm/core";
import { float16ToFloat32 } from "../onnx/tensor.js";

/** Where one tensor of a (sharded) safetensors checkpoint lies. */
export interface SafetensorsTensorInfo {
	file: string;
	dtype: string;
	shape: number[];
	/** Absolute byte range in the file. */
	begin: number;
	end: number;
}

/** The float types a checkpoint may store (bf16 and fp16 are widened to float32 exactly). */
const FLOAT_DTYPES = new Set(["F32", "F16", "BF16"]);

/**
 * A Hugging Face safetensors checkpoint opened for streaming: only the headers are read up front; `read`
 * fetches one tensor's byte range, so exporting a model holds about one tensor in memory, not the model.
 * Shards come from `model.safetensors.index.json` (its weight_map) or are every `*.safetensors` in the dir.
 */
export class SafetensorsCheckpoint {
	private constructor(
		readonly dir: string,
		readonly tensors: Map<string, SafetensorsTensorInfo>,
		private readonly handles: Map<string, FileHandle>,
	) {}

	static async open(dir: string): Promise<SafetensorsCheckpoint> {
		const indexPath = join(dir, "model.safetensors.index.json");
		let files: string[];
		const entries = await readdir(dir).catch((error: unknown) => {
			throw new TransllmError("E_IO", `${dir}: cannot list the model directory (${(error as Error).message})`, { cause: error });
		});
		if (entries.includes("model.safetensors.index.json")) {
			const index = await readJsonFile<{ weight_map?: Record<string, string> }>(indexPath, "safetensors index");
			if (!index.weight_map || typeof index.weight_map !== "object")
				throw new TransllmError("E_MODEL", `${indexPath}: no weight_map`);
			files = [...new Set(Object.values(index.weight_map))].sort();
		} else {
			files = entries.filter((name) => name.endsWith(".safetensors")).sort();
		}
		if (files.length === 0)
			throw new TransllmError("E_MODEL", `${dir}: no *.safetensors weights (save the model with save_pretrained(safe_serialization=True))`);
		const tensors = new Map<string, SafetensorsTensorInfo>();
		const handles = new Map<string, FileHandle>();
		try {
			for (const name of files) {
				const path = join(dir, name);
				const handle = await open(path, "r").catch((error: unknown) => {
					throw new TransllmError("E_IO", `${path}: cannot open shard (${(error as Error).message})`, { cause: error });
				});
				handles.set(path, handle);
				for (const [tensor, info] of await readHeader(handle, path)) {
					const other = tensors.get(tensor);
					if (other) throw new TransllmError("E_MODEL", `${path}: tensor ${tensor} is also in ${other.file}`);
					tensors.set(tensor, info);
				}
			}
		} catch (error) {
			await Promise.all([...handles.values()].map((h) => h.close()));
			throw error;
		}
		return new SafetensorsCheckpoint(dir, tensors, handles);
	}

	/** One tensor as float32 (row-major), read from disk now. */
	async read(name: string): Promise<Float32Array> {
		const info = this.tensors.get(name);
		if (!info) throw new TransllmError("E_MODEL", `${this.dir}: no tensor ${name} in the checkpoint`);
		const length = info.end - info.begin;
		const bytes = new Uint8Array(length);
		const handle = this.handles.get(info.file) as FileHandle;
		const { bytesRead } = await handle.read(bytes, 0, length, info.begin);
		if (bytesRead !== length)
			throw new TransllmError("E_MODEL", `${info.file}: tensor ${name} needs bytes ${info.begin}..${info.end}; the file is shorter`);
		if (info.dtype === "F32") return new Float32Array(bytes.buffer, 0, length / 4);
		const halves = new Uint16Array(bytes.buffer, 0, length / 2);
		if (info.dtype === "F16") return float16ToFloat32(halves);
		// bfloat16 is the top half of a float32: widening is exact.
		const out = new Uint32Array(halves.length);
		for (let i = 0; i < halves.length; i++) out[i] = (halves[i] as number) << 16;
		return new Float32Array(out.buffer);
	}

	async close(): Promise<void> {
		await Promise.all([...this.handles.values()].map((h) => h.close()));
		this.handles.clear();
	}
}

async function readHeader(handle: FileHandle, path: string): Promise<Map<string, SafetensorsTensorInfo>> {
	const size = (await handle.stat()).size;
	const prefix = Buffer.alloc(8);
	await handle.read(prefix, 0, 8, 0);
	const headerLength = Number(prefix.readBigUInt64LE(0));
	if (size < 8 || headerLength > size - 8) throw new TransllmError("E_MODEL", `${path}: not a safetensors file (bad header length)`);
	const headerBytes = Buffer.alloc(headerLength);
	await handle.read(headerBytes, 0, headerLength, 8);
	let header: Record<string, { dtype?: string; shape?: number[]; data_offsets?: [number, number] }>;
	try {
		header = JSON.parse(headerBytes.toString("utf8"));
	} catch (error) {
		throw new TransllmError("E_MODEL", `${path}: bad safetensors header (${(error as Error).message})`, { cause: error });
	}
	const base = 8 + headerLength;
	const tensors = new Map<string, SafetensorsTensorInfo>();
	for (const [name, info] of Object.entries(header)) {
		if (name === "__metadata__") continue;
		const { dtype, shape, data_offsets: offsets } = info;
		if (typeof dtype !== "string" || !Array.isArray(shape) || !Array.isArray(offsets))
			throw new TransllmError("E_MODEL", `${path}: header entry ${name} lacks dtype, shape or data_offsets`);
		const [begin, end] = offsets;
		const count = shape.reduce((a, b) => a * b, 1);
		const width = dtype === "F32" ? 4 : 2;
		if (FLOAT_DTYPES.has(dtype) && end - begin !== count * width)
			throw new TransllmError("E_MODEL", `${path}: tensor ${name} has ${end - begin} bytes for shape [${shape.join(", ")}] of ${dtype}`);
		if (base + end > size) throw new TransllmError("E_MODEL", `${path}: tensor ${name} ends past the end of the file (truncated download?)`);
		tensors.set(name, { file: path, dtype, shape, begin: base + begin, end: base + end });
	}
	return tensors;
}

/** Checks that the checkpoint holds every weight with the shape config.json implies, in a float type. */
export function checkCheckpointWeights(checkpoint: SafetensorsCheckpoint, shapes: Map<string, number[]>, configFile: string): void {
	for (const [name, shape] of shapes) {
		const info = checkpoint.tensors.get(name);
		if (!info) {
			const hint = name === "lm_head.weight" ? ` (if the head shares the embeddings, set "tie_word_embeddings": true in ${configFile})` : "";
			throw new TransllmError("E_MODEL", `${checkpoint.dir}: the checkpoint has no tensor ${name}${hint}`);
		}
		if (info.shape.join(",") !== shape.join(","))
			throw new TransllmError("E_MODEL", `${info.file}: ${name} has shape [${info.shape.join(", ")}], ${configFile} implies [${shape.join(", ")}]`);
		if (!FLOAT_DTYPES.has(info.dtype))
			throw new TransllmError("E_MODEL", `${info.file}: ${name} is ${info.dtype}; export reads F32, F16 and BF16 checkpoints (merge LoRA adapters and dequantize first)`);
	}
}
