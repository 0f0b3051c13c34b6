import { stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { InputError, TransllmError } from "@transllm/core";
import { allInitializers, externalDataInfo } from "./onnx/external-data.js";
import { dataTypeSize } from "./onnx/onnx-proto.js";
import type { OnnxModel } from "./onnx/onnx-proto.js";
import { readOnnxModel } from "./onnx/onnx-model-file.js";
import { tensorSize } from "./onnx/tensor.js";

/** Bytes a tensor's external data spans: its recorded length, else its element count times its type's size. */
function externalLength(tensor: Parameters<typeof tensorSize>[0], recorded: number | undefined): number | undefined {
	if (recorded !== undefined) return recorded;
	try {
		return tensorSize(tensor) * dataTypeSize(tensor.dataType ?? 0);
	} catch {
		return undefined; // a type without a fixed size: nothing to compare
	}
}

/**
 * Reads the decoder graph and checks every file it needs before onnxruntime opens them: a truncated or damaged
 * `.onnx`, or an external-data file (`model.onnx_data`) that is missing or shorter than the graph's offsets say,
 * is an InputError naming the file. onnxruntime would otherwise fail with an uncaught error deep in session
 * creation, or map a short file and crash.
 */
export async function readCheckedModel(onnxPath: string): Promise<OnnxModel> {
	let model: OnnxModel;
	try {
		model = await readOnnxModel(onnxPath);
	} catch (error) {
		const reason = error instanceof Error ? error.message.replace(`${onnxPath}: `, "") : String(error);
		throw new InputError(`not a complete ONNX model (${reason}); the file is truncated or damaged: export or copy it again`, { file: onnxPath }, { cause: error });
	}
	if (!model.graph || (model.graph.node ?? []).length === 0) throw new InputError("the ONNX model has no graph nodes; the file is truncated or damaged: export or copy it again", { file: onnxPath });
	const sizes = new Map<string, number | undefined>();
	for (const tensor of allInitializers(model.graph)) {
		let info;
		try {
			info = externalDataInfo(tensor);
		} catch (error) {
			throw new InputError((error as TransllmError).message, { file: onnxPath }, { cause: error });
		}
		if (!info) continue;
		const file = join(dirname(onnxPath), info.location);
		if (!sizes.has(file)) sizes.set(file, await stat(file).then((s) => (s.isFile() ? s.size : undefined), () => undefined));
		const size = sizes.get(file);
		if (size === undefined) throw new InputError(`missing: ${onnxPath} keeps tensor "${tensor.name ?? ""}" in this external data file; copy it beside the graph`, { file });
		const length = externalLength(tensor, info.length);
		if (length !== undefined && info.offset + length > size) {
			throw new InputError(
				`${size} bytes, but ${onnxPath} reads tensor "${tensor.name ?? ""}" from bytes ${info.offset}–${info.offset + length}: the file is truncated (or from another export); copy it again`,
				{ file },
			);
		}
	}
	return model;
}
