import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { TransllmError, writeFileAtomic, writeFileAtomicWith } from "@transllm/core";
import { linkExternalData, allInitializers, EXTERNAL } from "./external-data.js";
import { onnx, type OnnxModel } from "./onnx-proto.js";

/** Decodes ModelProto bytes into plain objects (int64 as numbers, empty repeated fields as []). */
export function decodeOnnxModel(bytes: Uint8Array, source = "ONNX model"): OnnxModel {
	let message;
	try {
		message = onnx.ModelProto.decode(bytes);
	} catch (error) {
		throw new TransllmError("E_MODEL", `${source}: not an ONNX ModelProto (${(error as Error).message})`, {
			cause: error,
		});
	}
	// raw_data stays a view of `bytes` (toObject keeps byte fields by reference).
	return onnx.ModelProto.toObject(message, { longs: Number, arrays: true }) as OnnxModel;
}

/** Encodes a model to ModelProto bytes. */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
	return onnx.ModelProto.encode(model).finish();
}

/**
 * Reads an .onnx file. Weights stored as external data (TensorProto.external_data, e.g. `model.onnx_data`)
 * stay on disk: only their locations are read, so editing the graph of a large model is cheap.
 */
export async function readOnnxModel(path: string): Promise<OnnxModel> {
	let bytes: Uint8Array;
	try {
		bytes = await readFile(path);
	} catch (error) {
		throw new TransllmError("E_IO", `${path}: cannot read ONNX model (${(error as Error).message})`, { cause: error });
	}
	const model = decodeOnnxModel(bytes, path);
	if (!model.graph) throw new TransllmError("E_MODEL", `${path}: the ModelProto has no graph`);
	return model;
}

/** Options of `writeOnnxModel`. */
export interface WriteOnnxModelOptions {
	/**
	 * The directory the model was read from. External data files it references are made reachable beside
	 * the written file (a hard link, else a copy); their bytes are never rewritten.
	 */
	sourceDir?: string;
	/**
	 * Moves in-memory initializers of at least `threshold` bytes (default 1024) into the external data file
	 * `location` beside the model (the layout of `onnx.save_model(..., save_as_external_data=True)`).
	 */
	externalData?: { location: string; threshold?: number };
}

const PROTOBUF_LIMIT = 2 ** 31 - 1;

/** ONNX Runtime memory-maps external data whose offset is page aligned. */
const ALIGNMENT = 4096;

/**
 * Writes a model atomically (temp file + rename). With `externalData`, large initializers go to a data file
 * (written first, also atomically) and the .onnx keeps only their locations.
 */
export async function writeOnnxModel(
	model: OnnxModel,
	path: string,
	options: WriteOnnxModelOptions = {},
): Promise<void> {
	const target = resolve(path);
	if (options.sourceDir !== undefined) await linkExternalData(model, options.sourceDir, dirname(target));
	let toWrite = model;
	if (options.externalData) toWrite = await externalize(model, dirname(target), options.externalData);
	const bytes = encodeOnnxModel(toWrite);
	// Protobuf messages are limited to 2 GiB; larger models must keep their weights as external data.
	if (bytes.byteLength > PROTOBUF_LIMIT) {
		throw new TransllmError(
			"E_MODEL",
			`${target}: the model is ${bytes.byteLength} bytes, over the 2 GiB protobuf limit; write it with externalData`,
		);
	}
	await writeFileAtomic(target, bytes);
}

async function externalize(
	model: OnnxModel,
	dir: string,
	settings: { location: string; threshold?: number },
): Promise<OnnxModel> {
	if (!model.graph) throw new TransllmError("E_MODEL", "the model has no graph");
	const threshold = settings.threshold ?? 1024;
	const location = settings.location;
	if (location.includes("/") || location.includes("\\") || location === "") {
		throw new RangeError(`external data location must be a plain file name, got "${location}"`);
	}
	// Shallow copies of the tensors we move, so the caller's model keeps its in-memory weights.
	const copy = onnx.ModelProto.toObject(onnx.ModelProto.fromObject(model), {
		longs: Number,
		arrays: true,
	}) as OnnxModel;
	const file = resolve(dir, location);
	await writeFileAtomicWith(file, async (handle) => {
		let offset = 0;
		for (const tensor of allInitializers(copy.graph ?? {})) {
			const raw = tensor.rawData;
			if (tensor.dataLocation === EXTERNAL || !raw || raw.byteLength < threshold) continue;
			offset = Math.ceil(offset / ALIGNMENT) * ALIGNMENT;
			await handle.write(raw, 0, raw.byteLength, offset);
			tensor.externalData = [
				{ key: "location", value: location },
				{ key: "offset", value: String(offset) },
				{ key: "length", value: String(raw.byteLength) },
			];
			tensor.dataLocation = EXTERNAL;
			tensor.rawData = null;
			offset += raw.byteLength;
		}
	});
	return copy;
}
