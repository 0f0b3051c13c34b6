import { copyFile, link, mkdir, open, stat } from "node:fs/promises";
import { dirname, isAbsolute, normalize, resolve } from "node:path";
import { TransllmError } from "@transllm/core";
import { dataTypeSize, type OnnxGraph, type OnnxModel, type OnnxTensor } from "./onnx-proto.js";
import { arrayFromBytes, tensorSize, type TensorArray } from "./tensor.js";

/** TensorProto.DataLocation.EXTERNAL. */
export const EXTERNAL = 1;

/** Where an external tensor's bytes are: TensorProto.external_data keys `location`, `offset`, `length`. */
export interface ExternalDataInfo {
	location: string;
	offset: number;
	length?: number;
}

/** The external-data entry of a tensor, or undefined when its bytes are in the model file. */
export function externalDataInfo(tensor: OnnxTensor): ExternalDataInfo | undefined {
	if (tensor.dataLocation !== EXTERNAL) return undefined;
	const entries = new Map((tensor.externalData ?? []).map((e) => [e.key ?? "", e.value ?? ""]));
	const location = entries.get("location");
	if (!location) throw new TransllmError("E_MODEL", `tensor ${tensor.name ?? ""} is external but names no location`);
	// ONNX Runtime refuses locations outside the model directory; say so before it does.
	if (isAbsolute(location) || normalize(location).split(/[\\/]/).includes("..")) {
		throw new TransllmError(
			"E_MODEL",
			`tensor ${tensor.name ?? ""}: external data location "${location}" must stay inside the model directory`,
		);
	}
	const info: ExternalDataInfo = { location, offset: Number(entries.get("offset") ?? 0) };
	if (entries.has("length")) info.length = Number(entries.get("length"));
	return info;
}

/** Every initializer of a graph and its subgraphs (Loop/If/Scan bodies), in file order. */
export function* allInitializers(graph: OnnxGraph): Generator<OnnxTensor> {
	yield* graph.initializer ?? [];
	for (const node of graph.node ?? []) {
		for (const attribute of node.attribute ?? []) {
			if (attribute.g) yield* allInitializers(attribute.g);
			for (const g of attribute.graphs ?? []) yield* allInitializers(g);
			if (attribute.t) yield attribute.t;
		}
	}
}

/** The distinct external data files (locations) a model references. */
export function externalDataLocations(model: OnnxModel): string[] {
	const locations = new Set<string>();
	if (model.graph)
		for (const tensor of allInitializers(model.graph)) {
			const info = externalDataInfo(tensor);
			if (info) locations.add(info.location);
		}
	return [...locations];
}

/**
 * Reads one external tensor's values from its data file beside the model (only its byte range, so a graph
 * tool can look at a single weight of a multi-gigabyte model).
 */
export async function readExternalTensor(tensor: OnnxTensor, modelDir: string): Promise<TensorArray> {
	const info = externalDataInfo(tensor);
	if (!info) throw new RangeError(`tensor ${tensor.name ?? ""} is not external`);
	const count = tensorSize(tensor);
	const length = info.length ?? count * dataTypeSize(tensor.dataType ?? 0);
	const file = resolve(modelDir, info.location);
	const handle = await open(file, "r").catch((error: unknown) => {
		throw new TransllmError(
			"E_MODEL",
			`${file}: cannot open external data of tensor ${tensor.name ?? ""}: ${(error as Error).message}`,
			{ cause: error },
		);
	});
	try {
		const bytes = new Uint8Array(length);
		const { bytesRead } = await handle.read(bytes, 0, length, info.offset);
		if (bytesRead !== length) {
			throw new TransllmError(
				"E_MODEL",
				`${file}: tensor ${tensor.name ?? ""} needs bytes ${info.offset}..${info.offset + length}, the file is shorter`,
			);
		}
		return arrayFromBytes(bytes, tensor.dataType ?? 0, count, tensor.name ?? "");
	} finally {
		await handle.close();
	}
}

async function sameFile(a: string, b: string): Promise<boolean> {
	const [sa, sb] = await Promise.all([stat(a).catch(() => undefined), stat(b).catch(() => undefined)]);
	return sa !== undefined && sb !== undefined && sa.ino === sb.ino && sa.dev === sb.dev;
}

/**
 * Makes the external data files of a model read from `sourceDir` reachable from `targetDir` under the same
 * relative locations: a hard link (no bytes copied), else (another filesystem) a copy. A graph edit thus
 * writes only the small .onnx file and never rewrites the weights.
 */
export async function linkExternalData(model: OnnxModel, sourceDir: string, targetDir: string): Promise<void> {
	if (resolve(sourceDir) === resolve(targetDir)) return;
	for (const location of externalDataLocations(model)) {
		const from = resolve(sourceDir, location);
		const to = resolve(targetDir, location);
		if (await sameFile(from, to)) continue;
		if (
			await stat(to).then(
				() => true,
				() => false,
			)
		) {
			throw new TransllmError(
				"E_IO",
				`${to} exists and is not the external data of the model from ${sourceDir}; write the model elsewhere`,
			);
		}
		if (
			!(await stat(from).then(
				(s) => s.isFile(),
				() => false,
			))
		) {
			throw new TransllmError("E_MODEL", `${from}: external data file referenced by the model is missing`);
		}
		await mkdir(dirname(to), { recursive: true });
		// Not a symlink: ONNX Runtime (1.24+) resolves links when it checks that external data stays inside the
		// model directory, so a link to another directory is refused.
		await link(from, to).catch(() => copyFile(from, to));
	}
}
